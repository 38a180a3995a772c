"""/remind: a daily reminder at a time of day, and the runner's time zone, asked once."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations.events import CancelReminders, SetReminder
from conversations.flows.recovery_common import (
    blocked,
    companion_of,
    companion_say,
    end_flow,
    push_frame,
)
from conversations.recovery_records import (
    parse_time,
    parse_timezone,
)

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)

# ----- /remind ------------------------------------------------------------------------------------
class Remind:
    """The time zone, asked once, for /remind 07:30."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        return {zone: zone.replace("_", " ") for zone in COMMON_ZONES}

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("remind_ask_tz")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        zone = parse_timezone(message.text)
        if zone is None:
            return False
        self.on_choice(turn, frame, zone)
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        companion_say(turn, "remind_tz_not_understood", kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        zone = parse_timezone(value)
        if zone is None:
            turn.ask()
            return
        set_reminder(turn, frame.values.get("time", "07:30"), zone)
        end_flow(turn)

    def finish(self, turn: Turn, frame: Frame) -> None:
        end_flow(turn)


def set_reminder(turn: Turn, time: str, zone: str) -> None:
    from conversations.recovery_records import make_reminder

    turn.effects.append(SetReminder(time, zone))
    turn.records = replace(turn.records, reminder=make_reminder(time, zone, turn.engine.now()))
    companion_say(turn, "remind_set", time=time, tz=zone)


def remind_command(turn: Turn, argument: str) -> None:
    """/remind 07:30, /remind off, or /remind (what is set)."""
    reminder = turn.records.reminder
    argument = argument.strip()
    if argument in ("off", "stop", "cancel", "none"):
        if reminder is not None and reminder.active:
            turn.effects.append(CancelReminders())
            turn.records = replace(turn.records, reminder=replace(reminder, active=False))
            companion_say(turn, "remind_off")
        else:
            companion_say(turn, "remind_none")
        return
    time = parse_time(argument) if argument else None
    if time is None:
        if not argument and reminder is not None and reminder.active:
            companion_say(turn, "remind_current", time=reminder.time, tz=reminder.tz)
        else:
            companion_say(turn, "remind_help")
        return
    if blocked(turn):
        return
    if turn.records.timezone:
        set_reminder(turn, time, turn.records.timezone)
        return
    push_frame(turn, "remind", "timezone", {"time": time})
    turn.ask()
