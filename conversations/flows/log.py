"""The runner's log: /log — pain 0–10 and, optionally, today's run, by buttons or in words, in any
order ("no run today, hip about a 3"). What was typed is kept at once: the entry is saved the
moment it has a value (SaveLog, then updated as the run and feel come in), so a command or a
question in between loses nothing. One entry a day: a later /log updates it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from conversations import plan_stages
from conversations import recovery as logic
from conversations.events import Button, Reply, SaveLog
from conversations.flows.plan import ask_hop_test
from conversations.flows.recovery_common import (
    answer_in_flow,
    blocked,
    companion_of,
    companion_text,
    end_flow,
    escape_text,
    exercises_held,
    push_frame,
)
from conversations.options import option_for_text
from conversations.recovery_records import FEELS, LogEntry, iso, new_id
from conversations.render import info_data
from knowledge.intents import Answer

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


class Log:
    """Pain 0–10 and, optionally, today's run, by buttons or in words; saved as it comes."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        if frame.step == "update":
            return {"update": c.message("log_option_update"), "keep": c.message("log_option_keep")}
        if frame.step == "pain":
            return {str(n): str(n) for n in range(11)}
        if frame.step == "run":
            return {str(k): f"{k} km" for k in logic.DISTANCE_BUTTONS} | {"none": c.message("log_option_no_run")}
        if frame.step == "feel":
            return {f: c.message(f"log_option_{f}") for f in FEELS}
        return {}

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        c = companion_of(render.knowledge)
        if frame.step == "update":
            return c.message("log_ask_update", summary=logic.describe_entry(entry_of(frame)))
        return c.message(f"log_ask_{frame.step}")

    def placeholder(self, render: RendererBase, frame: Frame) -> str:
        """The hint in the input field while the log waits for words."""
        return companion_of(render.knowledge).message("log_placeholder") if frame.step in ("pain", "run") else ""

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        from conversations.chain.questions import asks_something

        reading = logic.read_log(message.text, expect_pain=frame.step in ("pain", "update"))
        if asks_something(message.text) and not reading.anything:
            return False  # "can I run today?": the questions stage answers, then the log resumes
        if frame.step == "update" and not reading.anything and message.answer in (Answer.YES, Answer.NO):
            self.on_choice(turn, frame, "update" if message.answer is Answer.YES else "keep")
            return True
        if frame.step == "run" and not reading.anything and message.answer is Answer.NO:
            self.on_choice(turn, frame, "none")  # "no" to "Did you run today?"
            return True
        if frame.step == "run" and not reading.anything and re.fullmatch(r"\s*\d+(?:[.,]\d+)?\s*", message.text):
            reading = logic.read_log(message.text.strip() + " km")  # "5" to "Did you run?" is 5 km
        option = option_for_text(turn, message.text) if frame.step not in ("pain", "update", "run") else None
        if option is None and frame.step == "run" and not reading.anything:
            option = option_for_text(turn, message.text)
        if option is not None and reading.pain is None:
            self.on_choice(turn, frame, option)
            return True
        if not reading.anything:
            return False
        self.take(turn, frame, reading)
        return True

    def take(self, turn: Turn, frame: Frame, reading: logic.LogReading) -> None:
        """What a message said, kept at once."""
        values = frame.values
        new_pain = reading.pain is not None
        if new_pain:
            values["pain"] = str(reading.pain)
        if reading.distance_km is not None:
            values["km"] = str(reading.distance_km)
            values.pop("no_run", None)
        if reading.minutes is not None:
            values["min"] = str(round(reading.minutes, 1))
        if reading.feel and ("km" in values or frame.step == "feel"):
            values["feel"] = reading.feel
        if reading.no_run and "km" not in values:
            values["no_run"] = "1"
        self.save_and_go_on(turn, frame, said_pain=new_pain)

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        if answer_in_flow(turn, message):
            return
        turn.replies.append(Reply(companion_text(turn, "log_not_understood"), kind="not_understood"))
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        values = frame.values
        if frame.step == "update":
            if value == "keep":
                turn.replies.append(Reply(companion_text(turn, "log_kept"), kind="info", topic="log"))
                end_flow(turn)
                return
            frame.step = "pain"
            turn.ask()
            return
        said_pain = False
        if frame.step == "pain" and value.isdigit():
            values["pain"] = value
            said_pain = True
        elif frame.step == "run":
            if value == "none":
                values["no_run"] = "1"
                values.pop("km", None)
            elif value.isdigit():
                values["km"] = value
        elif frame.step == "feel" and value in FEELS:
            values["feel"] = value
        self.save_and_go_on(turn, frame, said_pain)

    def save_and_go_on(self, turn: Turn, frame: Frame, said_pain: bool) -> None:
        """Save the entry as it stands, say what it calls for, then ask what is still open."""
        entry = save(turn, frame)
        values = frame.values
        if "pain" not in values:
            frame.step = "pain"
        elif "km" not in values and "no_run" not in values:
            frame.step = "run"
        elif "km" in values and "feel" not in values and frame.step != "feel":
            frame.step = "feel"
        else:
            frame.step = ""
        self.confirm(turn, frame, entry, advice=said_pain or not frame.step)
        if frame.step:
            turn.ask()
            return
        end_flow(turn)
        plan = turn.records.plan
        if frame.values.get("hop") and plan is not None and not exercises_held(turn):  # no hop test while a warning says get seen first
            ask_hop_test(turn, plan)

    def confirm(self, turn: Turn, frame: Frame, entry: LogEntry, advice: bool) -> None:
        """ "Logged: pain 8/10." and, once the pain is known, the advice it calls for (the pain's
        advice once: after it, only what the run adds)."""
        c = companion_of(turn.knowledge)
        lines = [companion_text(turn, "log_saved", summary=logic.describe_entry(entry))]
        buttons: tuple[Button, ...] = ()
        if advice and (entry.pain is not None or entry.ran):
            condition = turn.session.last_condition or (turn.records.plan.condition if turn.records.plan else "")
            pain_said = frame.values.get("advised") == str(entry.pain)
            about = replace(entry, pain=None) if pain_said else entry
            lines += map(escape_text, logic.log_advice(c, turn.records, about, condition))
            if entry.pain is not None:
                frame.values["advised"] = str(entry.pain)
            if entry.pain is not None and entry.pain >= c.number("pain_severe") and not pain_said:
                buttons = (  # log_pain_severe asks; these answer it
                    Button(c.message("log_option_check_signs"), info_data("cmd", "redflags")),
                    Button(c.message("log_option_not_now"), info_data("later")),
                )
            if entry.pain is not None and not pain_said:
                lines += morning_check(turn, frame)
        turn.replies.append(Reply("\n\n".join(lines), buttons, kind="info", topic="log"))

    def finish(self, turn: Turn, frame: Frame) -> None:
        end_flow(turn)


def morning_check(turn: Turn, frame: Frame) -> list[str]:
    """The morning after a session: the plan's stage moves on, back, or waits for the hop test
    (asked once the log is done). The lines to add to the confirmation."""
    from conversations.flows import plan as plan_flow

    plan = turn.records.plan
    if plan is None:
        return []
    c = companion_of(turn.knowledge)
    check = plan_stages.morning_check(plan, turn.records.logs, turn.today(), c.number("pain_safe"), c.number("pain_acceptable"))
    if check.plan == plan:
        return []
    plan_flow.save_plan(turn, check.plan)
    if check.move == "hop":
        frame.values["hop"] = "1"
        return []
    before = len(turn.replies)
    if check.move == "on":
        plan_flow.say_unlocked(turn, plan, check.plan)
    elif check.move == "back":
        plan_flow.say_moved_back(turn, check.plan)
    said = [r.text for r in turn.replies[before:]]
    del turn.replies[before:]
    return said


def entry_of(frame: Frame) -> LogEntry:
    """The entry a log frame holds (its id and day are set when the log starts)."""
    values = frame.values
    ran = "km" in values
    return LogEntry(
        id=values["id"],
        at=values["at"],
        day=values["day"],
        pain=int(values["pain"]) if "pain" in values else None,
        distance_km=float(values["km"]) if ran else None,
        minutes=float(values["min"]) if "min" in values and ran else None,
        feel=values.get("feel", "") if ran else "",
    )


def save(turn: Turn, frame: Frame) -> LogEntry:
    """Keep the entry as it stands now (added, or replacing today's)."""
    frame.values["at"] = iso(turn.engine.now())
    entry = entry_of(frame)
    turn.effects.append(SaveLog(entry))
    turn.records = turn.records.with_log(entry)
    return entry


def todays_entry(turn: Turn) -> LogEntry | None:
    """The entry already logged today, if any (the latest, should an old store hold two)."""
    today = turn.today().isoformat()
    return next((e for e in reversed(turn.records.logs) if e.day == today), None)


def log_command(turn: Turn, argument: str) -> None:
    """/log, or /log with the entry in words (read through the whole chain, safety first).

    With an entry already today, /log alone asks whether to update it; /log with words updates
    it at once (what was typed is never held back behind a question).
    """
    if blocked(turn):
        return
    existing = todays_entry(turn)
    values = {"id": new_id(), "day": turn.today().isoformat(), "at": iso(turn.engine.now())}
    if existing is not None:
        values = {"id": existing.id, "day": existing.day, "at": existing.at}
        if existing.pain is not None:
            values["pain"] = str(existing.pain)
        if existing.distance_km is not None:
            values["km"] = str(existing.distance_km)
        if existing.minutes is not None:
            values["min"] = str(existing.minutes)
        if existing.feel:
            values["feel"] = existing.feel
    frame = push_frame(turn, "log", "update" if existing is not None else "pain", values)
    if argument.strip():
        frame.step = "pain"
        turn.on_text(argument)
    else:
        turn.ask()


