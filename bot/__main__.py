"""`python -m bot` is the same as the `runner-bot` command."""

import sys

from bot.cli import main

sys.exit(main())
