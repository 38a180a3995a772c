"""Stage 2 of the chain, commands: /start, /back, /redflags ... the same in every state.

Safety has nothing to read in a command. The recovery companion's commands (/plan, /log ...)
are its flows' own functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from conversations import clues, home
from conversations.events import Button, Command, Reply
from conversations.flows import forget, log, mileage, plan, progress, remind
from conversations.render import info_data
from conversations.session import Frame, Session, SessionError

if TYPE_CHECKING:
    from conversations.turn import Turn

DEEP_LINKS = {
    "hip": "hip",
    "back": "lower_back",
    "lower_back": "lower_back",
    "prevent": "prevent",
    "redflags": "redflags",
}


def on_command(turn: Turn, command: Command) -> None:
    """A /command: the same in every state (safety has nothing to read in a command)."""
    name = command.name
    handlers: dict[str, Callable[[], None]] = {
        "start": lambda: start(turn, command.argument),
        "restart": lambda: reset(turn, "restarted"),
        "forget": lambda: forget.forget_command(turn),
        "menu": lambda: home.show(turn),
        "cancel": lambda: cancel(turn),
        "back": lambda: go_back(turn),
        "help": lambda: info_card(turn, help_card(turn)),
        "about": lambda: (
            turn.aftermath_reminder() if turn.in_aftermath() else inform(turn, turn.render.about())
        ),
        "privacy": lambda: info_card(turn, privacy_card(turn)),
        "prevent": lambda: (
            turn.aftermath_reminder() if turn.in_aftermath() else info_card(turn, turn.render.prevention())
        ),
        "redflags": lambda: start_check(turn),
        # the recovery companion (flows/plan.py, log.py, mileage.py, remind.py)
        "plan": lambda: plan.plan_command(turn, command.argument),
        "log": lambda: log.log_command(turn, command.argument),
        "progress": lambda: progress.progress_command(turn),
        "mileage": lambda: mileage.mileage_command(turn, command.argument),
        "summary": lambda: progress.summary_command(turn),
        "export": lambda: progress.export_command(turn),
        "remind": lambda: remind.remind_command(turn, command.argument),
    }
    handler = handlers.get(name)
    if handler is None:
        turn.say("unknown_command")
        turn.ask(reminder=True)
    else:
        handler()


HELP_GROUPS = ("check", "recover", "data")


def help_card(turn: Turn, group: str = "") -> Reply:
    """/help: a short list, with a button for each group of commands (and the group's own list)."""
    text = turn.say_text(f"help_{group}" if group in HELP_GROUPS else "help")
    buttons = tuple(
        Button(turn.say_text(f"help_group_{g}"), info_data("help", g)) for g in HELP_GROUPS if g != group
    )
    return Reply(text, (*buttons, *turn.render.menu_button()), kind="info", topic="small_talk")


def privacy_card(turn: Turn) -> Reply:
    """/privacy: what is kept, with Export and Delete (which asks before deleting)."""
    buttons = (
        Button(turn.say_text("button_export"), info_data("cmd", "export")),
        Button(turn.say_text("button_delete"), info_data("cmd", "forget")),
    )
    return Reply(turn.say_text("privacy"), buttons, kind="info")


def start(turn: Turn, argument: str) -> None:
    """/start, or a deep link such as /start hip."""
    target = DEEP_LINKS.get(argument)
    turn.session = Session(menu=turn.session.menu)
    if target in ("hip", "lower_back"):
        turn.say("welcome")
        clues.start_triage(turn, region=target)
    elif target == "prevent":
        turn.say("welcome")
        info_card(turn, turn.render.prevention())
    elif target == "redflags":
        start_check(turn)
    elif home.has_history(turn):
        home.show(turn, welcome_back=True)  # a returning runner: two lines, not the first welcome
    else:
        turn.say("welcome")
        turn.ask()


def reset(turn: Turn, message_key: str) -> None:
    """Start over with the menu (the menu counter kept), saying `message_key`."""
    # The menu counter survives a reset so that buttons from before it have expired.
    turn.session = Session(menu=turn.session.menu)
    turn.say(message_key)
    turn.ask()


def cancel(turn: Turn) -> None:
    """/cancel: stop the flow in progress, keeping the warnings and the urgency said."""
    had_flow = turn.session.top is not None
    old = turn.session  # stopping a flow forgets neither a warning nor the urgency said
    turn.session = Session(
        menu=old.menu, last_condition=old.last_condition, flags=old.flags, concerns=old.concerns,
        urgency=old.urgency, cleared=old.cleared, doubtful=old.doubtful,
    )  # fmt: skip
    turn.say("cancelled" if had_flow else "nothing_to_cancel")
    turn.ask()


def go_back(turn: Turn) -> None:
    """Return to the previous question. Warnings already given are never undone."""
    if turn.in_aftermath() or not turn.session.back:
        turn.say("nothing_to_go_back")
        turn.ask(reminder=True)
        return
    snapshot = turn.session.back.pop()
    try:
        restored = Session.from_dict({"stack": snapshot.get("stack", []), "menu": turn.session.menu})
    except SessionError:
        restored = Session(menu=turn.session.menu)
    turn.session.stack = restored.stack
    turn.session.cleared = [f for f in snapshot.get("cleared", []) if f not in turn.session.flags]
    turn.session.doubtful = list(snapshot.get("doubtful", []))
    turn.going_back = True
    turn.ask()


def inform(turn: Turn, text: str, topic: str = "") -> None:
    """An information line; a paused flow then asks again."""
    turn.replies.append(Reply(text, kind="info", topic=topic))
    if turn.session.top is not None:
        turn.ask(reminder=True)


def info_card(turn: Turn, reply: Reply) -> None:
    """An information card with buttons of its own; a paused flow then asks again."""
    turn.replies.append(reply)
    if turn.session.top is not None:
        turn.ask(reminder=True)


def start_check(turn: Turn) -> None:
    """/redflags: the warning-sign check, on top of whatever was in progress."""
    if turn.in_aftermath():
        turn.aftermath_reminder()
        return
    turn.session.cleared = []
    turn.session.doubtful = []
    turn.push(Frame("check"))
    turn.say("check_intro")
    turn.advance()
