"""/remind: a daily reminder at a time of day, and the runner's time zone, asked once."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations.events import Button, CancelReminders, Reply, SetReminder, SnoozeReminder
from conversations.flows.recovery_common import (
    answer_in_flow,
    blocked,
    companion_of,
    companion_say,
    companion_text,
    end_flow,
    push_frame,
)
from conversations.recovery_records import (
    parse_time,
    parse_timezone,
)
from conversations.render import info_data

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


COMMON_TIMES = ("06:30", "07:30", "12:00", "18:00", "20:00")
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
    """The reminder's time (from the reminder's Change time button) and the time zone, asked
    once, for /remind 07:30."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        if frame.step == "time":
            return {t: t for t in COMMON_TIMES}
        return {zone: zone.replace("_", " ") for zone in COMMON_ZONES}

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message(f"remind_ask_{'time' if frame.step == 'time' else 'tz'}")

    def placeholder(self, render: RendererBase, frame: Frame) -> str:
        """The hint in the input field: a time, or a time zone."""
        return "07:30" if frame.step == "time" else "Europe/Paris"

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        found = parse_time(message.text.strip()) if frame.step == "time" else parse_timezone(message.text)
        if found is None:
            return False
        self.on_choice(turn, frame, found)
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        if answer_in_flow(turn, message):
            return
        key = "remind_time_not_understood" if frame.step == "time" else "remind_tz_not_understood"
        companion_say(turn, key, kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        if frame.step == "time":
            time = parse_time(value)
            if time is None:
                turn.ask()
            elif turn.records.timezone:
                set_reminder(turn, time, turn.records.timezone)
                end_flow(turn)
            else:
                frame.values["time"], frame.step = time, "timezone"
                turn.ask()
            return
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
            c = companion_of(turn.knowledge)
            buttons = (
                Button(c.message("reminder_option_time"), info_data("rem", "time")),
                Button(c.message("reminder_option_off"), info_data("rem", "off")),
            )
            text = companion_text(turn, "remind_current", time=reminder.time, tz=reminder.tz)
            turn.replies.append(Reply(text, buttons, kind="info", topic="reminder"))
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


# ----- the daily reminder ---------------------------------------------------------------------------
# flows a reminder must not push a plan card on top of: their pending question comes first
BUSY_FLOWS = frozenset({"triage", "check", "aftermath", "forget"})
SNOOZE_MINUTES = 60


def reminder_due(turn: Turn) -> None:
    """The daily reminder, one message: the line, and today's card when a plan is under way
    (Done / Too painful / Skip), with Snooze 1 h / Change time / Off — or Done, to log, without
    a plan. Nothing on a day already marked; only the line in the middle of a triage or after an
    emergency, where the card would cover the question."""
    from conversations.flows.plan import plan_command

    plan, today = turn.records.plan, turn.today()
    if plan is not None and plan.mark(plan.day_of(today)) is not None:
        return  # Done, Skip or Too painful already: no reminder today
    c = companion_of(turn.knowledge)
    top = turn.session.top
    line = companion_text(turn, "reminder_due")
    own = (
        Button(c.message("reminder_option_snooze"), info_data("rem", "snooze")),
        Button(c.message("reminder_option_time"), info_data("rem", "time")),
        Button(c.message("reminder_option_off"), info_data("rem", "off")),
    )
    before = len(turn.replies)
    if plan is not None and (top is None or top.flow not in BUSY_FLOWS):
        plan_command(turn)
    card = turn.replies[before:]
    if not card:
        done = Button(c.message("reminder_option_done"), info_data("rem", "done"))
        turn.replies.append(Reply(line, (done, *own), kind="info", topic="reminder"))
        return
    first, last = card[0], card[-1]
    turn.replies[before] = replace(first, text=f"{line}\n\n{first.text}")
    turn.replies[-1] = replace(turn.replies[-1], buttons=(*last.buttons, *own))


def reminder_button(turn: Turn, action: str) -> None:
    """A button of the reminder: done (log it), snooze an hour, change the time, or off."""
    if blocked(turn):
        return
    if action == "snooze":
        turn.effects.append(SnoozeReminder(SNOOZE_MINUTES))
        companion_say(turn, "reminder_snoozed", minutes=SNOOZE_MINUTES)
    elif action == "time":
        push_frame(turn, "remind", "time")
        turn.ask()
    elif action == "off":
        remind_command(turn, "off")
    elif action == "done":
        from conversations.flows.log import log_command

        log_command(turn, "")
