"""Stage 4 of the chain, the flow: the flow on top of the session's stack reads the message as an
answer to its pending question (or a button press as its choice); with no flow, a description
starts a triage, and a menu label typed out presses that button.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from conversations import clues, options
from conversations.chain import commands, questions
from conversations.options import LABEL_MATCH

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.turn import Turn


def choose(turn: Turn, value: str) -> None:
    """The current question's option `value` was chosen."""
    frame = turn.session.top
    if frame is None:
        choose_from_menu(turn, value)
    else:
        turn.flow(frame).on_choice(turn, frame, value)


def choose_from_menu(turn: Turn, value: str) -> None:
    """A main-menu option: the prevention routine, the check, or a triage of a region."""
    if value == "prevent":
        commands.info_card(turn, turn.render.prevention())
    elif value == "redflags":
        commands.start_check(turn)
    else:
        clues.start_triage(turn, region=value)


def typed_label_pressed(turn: Turn, message: MessageReading) -> bool:
    """A button's label typed out ("Prevention routine") presses that button."""
    stripped = message.text.strip().rstrip(".!").lower()
    for key, label in turn.current_options().items():
        if fuzz.ratio(stripped, label.lower()) >= LABEL_MATCH:
            turn.typed_label = label
            choose(turn, key)
            return True
    return False


def describe(turn: Turn, message: MessageReading) -> None:
    """Free text with nothing in progress: start a triage, or say why not."""
    concepts = message.concepts
    option = options.option_for_text(turn, message.text)
    if concepts & turn.engine.in_scope_concepts:
        clues.start_triage(turn, message=message)
    elif option is not None:  # a menu label typed rather than tapped
        turn.typed_label = turn.render.options(turn.session).get(option, "")
        choose_from_menu(turn, option)
    elif message.flags:
        clues.start_triage(turn, message=message)  # a warning sign with no place yet: where does it hurt?
    elif clues.other_conditions(turn, concepts):
        clues.refer(turn, concepts)
    elif message.intent.pain:
        clues.start_triage(turn, message=message)  # "it hurts": where?
    elif message.answer.value in ("yes", "no") and not concepts:
        turn.say("acknowledged", kind="small_talk")  # a "no" or "ok" with nothing pending
    elif questions.asks_something(message.text):
        questions.unread_question(turn, message)
    else:
        turn.say("not_understood", kind="not_understood")
        turn.ask()
