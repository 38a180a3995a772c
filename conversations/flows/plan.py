"""/plan: today's session card of the exercise plan — Done, Too painful or Skip — the walk-run
stages, once a week the return-to-run check, and the daily reminder's card.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING

from conversations import recovery as logic
from conversations.events import Reply, SavePlan
from conversations.flows.recovery_common import (
    answer_in_flow,
    blocked,
    companion_of,
    companion_say,
    companion_text,
    end_flow,
    level_name,
    needs_clinician_first,
    push_frame,
)
from conversations.options import option_for_text
from conversations.recovery_records import (
    Mark,
    Plan,
    iso,
    new_id,
)
from knowledge.intents import Answer

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


# ----- /plan --------------------------------------------------------------------------------------
class PlanFlow:
    """Today's session card: Done, Too painful or Skip; and once a week, the return-to-run check."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        if frame.step == "criteria":
            return {"yes": render.say("option_yes"), "no": render.say("option_no")}
        return {
            "done": c.message("option_plan_done"),
            "painful": c.message("option_plan_painful"),
            "skip": c.message("option_plan_skip"),
        }

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("plan_ask_criteria" if frame.step == "criteria" else "plan_ask_day")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        if "?" in message.text:
            return False
        if frame.step == "criteria" and message.answer in (Answer.YES, Answer.NO):
            self.on_choice(turn, frame, message.answer.value)
            return True
        option = option_for_text(turn, message.text)
        if option is None and frame.step == "day":
            lowered = message.text.lower()
            option = next((k for k, words in DAY_WORDS.items() if any(w in lowered for w in words)), None)
        if option is None:
            return False
        self.on_choice(turn, frame, option)
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        if answer_in_flow(turn, message):
            return
        turn.say("need_an_answer", kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        plan = turn.records.plan
        if plan is None or plan.id != frame.values.get("plan"):
            end_flow(turn)
            return
        if frame.step == "criteria":
            ready = value == "yes"
            save_plan(turn, replace(plan, run_ready=ready))
            c = companion_of(turn.knowledge)
            companion_say(turn, "plan_run_ready" if ready else "plan_not_ready", walk_run=c.fact("walk_run"))
            end_flow(turn)
            return
        day = int(frame.values.get("day", "0"))
        plan_day = logic.plan_day(plan, day)
        outcome = {"done": "done", "painful": "painful", "skip": "skipped"}.get(value)
        if outcome is None:
            turn.ask()
            return
        updated = plan.with_mark(Mark(day, outcome))
        extra: list[str] = []
        if outcome == "done" and plan_day.stage is not None:
            stage_done = updated.stage_done + 1
            if stage_done >= logic.STAGE_REPEATS and updated.stage < len(logic.JOG_MINUTES) - 1:
                updated = replace(updated, stage=updated.stage + 1, stage_done=0)
                extra.append(companion_text(turn, "plan_stage_up", stage=updated.stage + 1))
            else:
                updated = replace(updated, stage_done=stage_done)
        if outcome == "painful":
            was_easiest = plan_day.level == "easier"
            updated = replace(updated, shift=max(updated.shift - 1, -2))
            if plan_day.stage is not None:
                updated = replace(updated, stage=max(0, updated.stage - 1), stage_done=0)
                extra.append(companion_text(turn, "plan_stage_down", stage=updated.stage + 1))
        save_plan(turn, updated)
        date = turn.today()
        status = logic.status_line(companion_of(turn.knowledge), updated, date)
        condition = turn.knowledge.conditions.get(plan.condition)
        if outcome == "done":
            companion_say(turn, "plan_done", status=status)
        elif outcome == "skipped":
            companion_say(turn, "plan_skipped", status=status)
        else:
            level = logic.plan_day(updated, day + 1).level
            stop_if = next((e.stop_if for e in condition.exercises if e.stop_if), "") if condition else ""
            companion_say(turn, "plan_painful", level=level_name(turn, level), stop_if=stop_if)
            refer_after = int(companion_of(turn.knowledge).number("painful_days_to_refer"))
            if was_easiest or logic.painful_recently(updated, day) >= refer_after:
                seek = condition.see_a_clinician.text if condition and condition.see_a_clinician else ""
                companion_say(turn, "plan_painful_refer", kind="warning", refer=companion_of(turn.knowledge).fact("too_painful_refer"), seek=seek)
        for line in extra:
            turn.replies.append(Reply(line, kind="info"))
        if outcome == "done" and not updated.run_ready and day >= 7 and day % 7 == 0:
            frame.step = "criteria"
            turn.ask()
            return
        end_flow(turn)

    def finish(self, turn: Turn, frame: Frame) -> None:
        end_flow(turn)


DAY_WORDS = {
    "painful": ("too painful", "too sore", "hurt", "painful"),
    "skip": ("skip", "skipped", "not today", "missed"),
    "done": ("done", "did it", "finished", "completed"),
}


def save_plan(turn: Turn, plan: Plan) -> None:
    plan = replace(plan, updated=iso(turn.engine.now()))
    turn.effects.append(SavePlan(plan))
    turn.records = turn.records.with_plan(plan)



def plan_command(turn: Turn, argument: str = "") -> None:
    """/plan or "Start a plan": today's card of the plan in progress, or a new plan for the
    condition of the last result — not when what the runner said needs a clinician first."""
    if blocked(turn) or needs_clinician_first(turn):
        return
    knowledge = turn.knowledge
    current = turn.records.plan
    wanted = argument if argument in knowledge.conditions else turn.session.last_condition
    today = turn.today()
    if current is not None and (not wanted or wanted == current.condition) and current.day_of(today) < logic.PLAN_WEEKS * 7:
        show_day(turn, current)
        return
    if not wanted:
        companion_say(turn, "plan_no_condition")
        if turn.session.top is None:
            turn.ask()
        return
    plan = Plan(id=new_id(), condition=wanted, start=today.isoformat())
    save_plan(turn, plan)
    c = companion_of(knowledge)
    companion_say(turn, "plan_started", weeks=logic.PLAN_WEEKS, name=knowledge.conditions[wanted].name, easier=c.fact("easier_week"))
    show_day(turn, turn.records.plan or plan)


def day_card(turn: Turn, plan: Plan, day: int) -> str:
    """Today's session: the exercises at today's dose, and the walk-run stage on a run day."""
    knowledge = turn.knowledge
    condition = knowledge.conditions[plan.condition]
    today = logic.plan_day(plan, day)
    c = companion_of(knowledge)
    if today.rest:
        return companion_text(turn, "plan_card_rest", day=day + 1, week=today.week, status=logic.status_line(c, plan, turn.today()))
    lines = []
    for exercise in condition.exercises:
        lines.append(f"• <b>{escape(exercise.name)}</b> — {escape(logic.dose(exercise, today.level))}")
        if today.level == "harder" and exercise.progression:
            lines.append(escape(c.message("plan_progression", progression=exercise.progression)))
    run = ""
    if today.stage is not None:
        walk, jog = logic.stage_minutes(today.stage)
        run = companion_text(
            turn, "plan_run", stage=today.stage + 1, stages=len(logic.JOG_MINUTES), walk=logic.km(walk), jog=logic.km(jog)
        )
    return c.message(
        "plan_card", day=day + 1, week=today.week, level=escape(level_name(turn, today.level)), exercises="\n".join(lines), run=run
    )


def show_day(turn: Turn, plan: Plan) -> None:
    today = turn.today()
    day = plan.day_of(today)
    if day >= logic.PLAN_WEEKS * 7:
        companion_say(turn, "plan_finished", weeks=logic.PLAN_WEEKS)
        return
    text = day_card(turn, plan, day)
    mark = plan.mark(day)
    rest = logic.plan_day(plan, day).rest
    if mark is not None:
        text += "\n\n" + companion_text(turn, "plan_card_marked", outcome=mark.outcome)
    turn.replies.append(Reply(text, kind="info", topic="plan"))
    if mark is None and not rest:
        push_frame(turn, "plan", "day", {"day": str(day), "plan": plan.id})
        turn.ask()
