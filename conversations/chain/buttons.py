"""Button presses: a section or menu button (never expires), the current question's option (the
flow stage), or a stale or forged button — which is a toast, unless it reports a warning sign.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations import home
from conversations.chain import commands, flow
from conversations.events import Command, Reply, Toast
from conversations.flows import remind
from conversations.machine import CHECKLIST_STEP, CONFIRM_STEP, EMERGENCY_STEP, WARNING_STEP
from conversations.render import INFO

if TYPE_CHECKING:
    from conversations.turn import Turn


# commands a lasting button may run (none deletes anything: /forget asks first)
BUTTON_COMMANDS = frozenset(
    "back restart plan log progress summary export remind forget privacy help redflags prevent".split()
)


def split_data(data: str) -> tuple[str, str, str]:
    """Button data as (menu, step, value)."""
    menu, _, rest = (data or "").partition(":")
    step, _, value = rest.partition(":")
    return menu, step, value


def on_choice(turn: Turn, data: str) -> None:
    """A button press: a section or menu button, the current question's option, or stale."""
    if (data or "").startswith(f"{INFO}:"):
        on_info_button(turn, data.split(":")[1:])
        return
    if not turn.engine.accepts(turn.session, data):
        stale_button(turn, data)
        return
    _, _, value = split_data(data)
    flow.choose(turn, value)


def on_info_button(turn: Turn, parts: list[str]) -> None:
    """A button that never expires: a section, a prevention group, the menu, a command, a topic."""
    kind, args = (parts[0] if parts else ""), parts[1:]
    if turn.in_aftermath() and kind not in ("emergency_help", "cmd"):
        turn.aftermath_reminder()  # after an emergency, only help to act on it
    elif kind == "section" and len(args) == 2 and (reply := turn.render.section(args[0], args[1], turn.flag_advice(), turn.said())):
        turn.replies.append(replace(reply, replaces=True))  # a tab of the card it came from
    elif kind == "prevent" and args:
        turn.replies.append(replace(turn.render.prevention(args[0]), replaces=True))  # a tab of the routine
    elif kind == "menu":
        home.show(turn)  # the home, never the pending question again: that waits behind "Carry on"
    elif kind == "resume":
        home.resume(turn)
    elif kind == "later":  # "Not now" to an offer: the question pending, if any, again
        turn.ask(reminder=True)
    elif kind == "help":
        commands.info_card(turn, commands.help_card(turn, args[0] if args else ""))
    elif kind == "rem" and args:
        remind.reminder_button(turn, args[0])
    elif kind == "cmd" and args and args[0] in BUTTON_COMMANDS:
        commands.on_command(turn, Command(args[0]))
    elif kind == "emergency_help":
        turn.emergency_help()
    elif kind == "ask":
        turn.session.last_condition = args[0] if args and args[0] in turn.knowledge.conditions else ""
        turn.replies.append(Reply(turn.say_text("ask_prompt"), placeholder=turn.say_text("placeholder_ask")))
    elif kind in ("topic", "clarified") and args:
        condition = args[1] if len(args) > 1 and args[1] in turn.knowledge.conditions else None
        turn.replies.append(turn.render.answer(args[0], condition, turn.said(), turn.flag_advice()))
        if kind == "clarified" and turn.session.top is not None:
            turn.ask(reminder=True)  # the answer to "Do you mean ...?", then the paused flow
    else:
        turn.effects.append(Toast(turn.say_text("menu_expired")))


def stale_button(turn: Turn, data: str) -> None:
    """An old or forged button: a toast — but a late "yes" to a safety question is a report."""
    _, step, value = split_data(data)
    step, _, confirm = step.partition(".")
    reported = ""
    if step == EMERGENCY_STEP and value == "yes":
        reported = turn.knowledge.triage.screen.emergency
    elif step in (WARNING_STEP, CHECKLIST_STEP) and value in turn.knowledge.red_flags:
        reported = value
    elif step == CONFIRM_STEP and value == "yes" and confirm in turn.knowledge.red_flags:
        reported = confirm
    if reported and reported not in turn.session.flags:
        turn.effects.append(Toast(turn.say_text("late_report")))
        turn.raise_flags([reported])
        if not turn.in_aftermath():
            turn.ask(reminder=True)
    else:
        turn.effects.append(Toast(turn.say_text("menu_expired")))
