"""/plan: today's session card of the staged plan — Done, Too painful or Skip — with the stage it
is at, why, and what unlocks the next; the hop test before walk-run; the daily reminder's card.
Stages move on the next morning's log (flows/log.py, conversations/plan_stages.py), not the date.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING

from conversations import plan_stages
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
from conversations.phone import CLOSE, OPEN
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
    """Today's session card: Done, Too painful or Skip; and the hop test before walk-run."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        if frame.step == "hop":
            return {"yes": render.say("option_yes"), "no": render.say("option_no")}
        return {
            "done": c.message("option_plan_done"),
            "painful": c.message("option_plan_painful"),
            "skip": c.message("option_plan_skip"),
        }

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("plan_hop_ask" if frame.step == "hop" else "plan_ask_day")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        if "?" in message.text:
            return False
        if frame.step == "hop" and message.answer in (Answer.YES, Answer.NO):
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
        if frame.step == "hop":
            hop_answer(turn, plan, value == "yes")
            end_flow(turn)
            return
        day = int(frame.values.get("day", "0"))
        outcome = {"done": "done", "painful": "painful", "skip": "skipped"}.get(value)
        if outcome is None:
            turn.ask()
            return
        mark_day(turn, plan, day, outcome)
        end_flow(turn)

    def finish(self, turn: Turn, frame: Frame) -> None:
        end_flow(turn)


DAY_WORDS = {
    "painful": ("too painful", "too sore", "hurt", "painful"),
    "skip": ("skip", "skipped", "not today", "missed"),
    "done": ("done", "did it", "finished", "completed"),
}


def mark_day(turn: Turn, plan: Plan, day: int, outcome: str) -> None:
    """Done, Too painful or Skip for a day: the sessions at the stage, the walk-run step, the dose."""
    plan_day = logic.plan_day(plan, day)
    updated = plan.with_mark(Mark(day, outcome))
    extra: list[str] = []
    if outcome == "done":
        updated = replace(updated, phase_sessions=updated.phase_sessions + 1)
    if outcome == "done" and plan_day.stage is not None:
        stage_done = updated.stage_done + 1
        if stage_done >= logic.STAGE_REPEATS and updated.stage < len(logic.JOG_MINUTES) - 1:
            updated = replace(updated, stage=updated.stage + 1, stage_done=0)
            extra.append(companion_text(turn, "plan_stage_up", stage=updated.stage + 1))
        else:
            updated = replace(updated, stage_done=stage_done)
    if outcome == "painful":
        updated = replace(updated, shift=max(updated.shift - 1, -2))
        if plan_day.stage is not None:
            updated = replace(updated, stage=max(0, updated.stage - 1), stage_done=0)
            extra.append(companion_text(turn, "plan_stage_down", stage=updated.stage + 1))
    save_plan(turn, updated)
    status = logic.status_line(companion_of(turn.knowledge), updated, turn.today())
    if outcome == "done":
        companion_say(turn, "plan_done", status=status)
    elif outcome == "skipped":
        companion_say(turn, "plan_skipped", status=status)
    else:
        too_painful(turn, updated, day, was_easiest=plan_day.level == "easier")
    for line in extra:
        turn.replies.append(Reply(line, kind="info"))


def too_painful(turn: Turn, plan: Plan, day: int, was_easiest: bool) -> None:
    """A lower dose from now on, and a clinician when even the easiest dose hurts, or twice a week."""
    condition = turn.knowledge.conditions.get(plan.condition)
    level = logic.plan_day(plan, day + 1).level
    stop_if = next((e.stop_if for e in condition.exercises if e.stop_if), "") if condition else ""
    companion_say(turn, "plan_painful", level=level_name(turn, level), stop_if=stop_if)
    c = companion_of(turn.knowledge)
    if was_easiest or logic.painful_recently(plan, day) >= int(c.number("painful_days_to_refer")):
        seek = condition.see_a_clinician.text if condition and condition.see_a_clinician else ""
        companion_say(turn, "plan_painful_refer", kind="warning", refer=c.fact("too_painful_refer"), seek=seek)


def hop_answer(turn: Turn, plan: Plan, passed: bool) -> None:
    """Yes: the walk-run stage unlocks. No: stay, and the hop test's own advice (get it checked)."""
    c = companion_of(turn.knowledge)
    if not passed:
        why = companion_text(turn, "plan_why_hop", hop=c.fact("hop_test"))
        turn.replies.append(Reply(c.message("plan_stage_held", stage=escape(plan_stages.stage_of(plan).title), why=why), kind="info"))
        return
    updated = plan_stages.pass_hop_test(plan)
    save_plan(turn, updated)
    say_unlocked(turn, plan, updated)


def say_unlocked(turn: Turn, before: Plan, after: Plan) -> None:
    """ "Next stage unlocked: Walk-run. New: …" """
    c = companion_of(turn.knowledge)
    old = set(plan_stages.stage_of(before).exercises)
    new = [e.name for e in plan_stages.exercises(turn.knowledge, after) if e.id not in old]
    about = companion_text(turn, "plan_stage_new", names=", ".join(new)) if new else ""
    about += " " + running_text(turn, after)
    turn.replies.append(Reply(c.message("plan_stage_unlocked", stage=escape(plan_stages.stage_of(after).title), about=about.strip()), kind="info", topic="plan"))


def say_moved_back(turn: Turn, plan: Plan) -> None:
    """ "Back to Gentle holds for a few sessions …" """
    c = companion_of(turn.knowledge)
    turn.replies.append(Reply(c.message("plan_stage_back", stage=escape(plan_stages.stage_of(plan).title)), kind="info", topic="plan"))


def ask_hop_test(turn: Turn, plan: Plan) -> None:
    """Ready for the walk-run stage in every way but the hop test: ask it (Yes / No)."""
    push_frame(turn, "plan", "hop", {"plan": plan.id})
    turn.ask()


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
    if current is not None and (not wanted or wanted == current.condition) and current.day_of(today) < plan_stages.plan_days(current):
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
    stages = plan_stages.staged(plan)
    companion_say(
        turn, "plan_started", weeks=stages.weeks, stages=len(stages.stages), name=knowledge.conditions[wanted].name, unlock=c.fact("unlock_rule")
    )
    show_day(turn, turn.records.plan or plan)


def running_text(turn: Turn, plan: Plan, day: int | None = None) -> str:
    """What running the stage allows: walks, the walk-run step on a run day, easy runs, or all."""
    stage = plan_stages.stage_of(plan)
    if stage.running == "walk_run":
        if day is None or (step := logic.plan_day(plan, day).stage) is None:
            return companion_text(turn, "plan_running_walk") if day is not None else ""
        walk, jog = logic.stage_minutes(step)
        return companion_text(turn, "plan_run", stage=step + 1, stages=len(logic.JOG_MINUTES), walk=logic.km(walk), jog=logic.km(jog))
    if stage.running == "easy_running":
        return companion_text(turn, "plan_running_easy", percent=round(stage.max_share * 100))
    if stage.running == "full":
        return companion_text(turn, "plan_running_full")
    return companion_text(turn, "plan_running_walk")


def stage_lines(turn: Turn, plan: Plan) -> tuple[str, str]:
    """ "Stage 2 of 4: Gentle holds — why it is here" and what unlocks the next."""
    stage = plan_stages.stage_of(plan)
    number, total = plan_stages.stage_number(plan)
    moved = plan.moved or ("on" if number > 1 else "")  # a later stage reached before `moved` was kept
    why = companion_text(turn, {"on": "plan_why_on", "back": "plan_why_back"}.get(moved, "plan_why_start"))
    header = companion_of(turn.knowledge).message("plan_card_stage", n=number, total=total, title=escape(stage.title), why=why)
    after = plan_stages.following(plan)
    if after is None:
        return header, companion_text(turn, "plan_next_last")
    gate = companion_text(turn, "plan_next_gate") if after.gate and not plan.run_ready else ""
    left = plan_stages.sessions_left(plan)
    if left:
        return header, companion_text(turn, "plan_next", title=after.title, left=left, gate=gate)
    return header, companion_text(turn, "plan_next_ready", title=after.title, gate=gate)


def day_card(turn: Turn, plan: Plan, day: int) -> str:
    """Today's session: the stage, the exercises it has unlocked at today's dose, the running it
    allows, and what unlocks the next stage."""
    today = logic.plan_day(plan, day)
    c = companion_of(turn.knowledge)
    if today.rest:
        return companion_text(turn, "plan_card_rest", day=day + 1, week=today.week, status=logic.status_line(c, plan, turn.today()))
    lines, cues = [], []
    for exercise in plan_stages.exercises(turn.knowledge, plan):
        lines.append(f"• <b>{escape(exercise.name)}</b> — {escape(logic.dose(exercise, today.level))}")
        if today.level == "harder" and exercise.progression:
            cues.append(escape(f"↳ {exercise.name}: {exercise.progression}"))
    if cues:  # how to make each harder: folded, so the session stays a phone screen
        lines.append(OPEN + "\n".join(cues) + CLOSE)
    header, unlocks = stage_lines(turn, plan)
    return c.message(
        "plan_card",
        day=day + 1,
        week=today.week,
        level=escape(level_name(turn, today.level)),
        stage=header,
        exercises="\n".join(lines) or companion_text(turn, "plan_no_exercises"),
        run=running_text(turn, plan, day),
        next=unlocks,
    )


def show_day(turn: Turn, plan: Plan) -> None:
    today = turn.today()
    day = plan.day_of(today)
    if day >= plan_stages.plan_days(plan):
        companion_say(turn, "plan_finished", weeks=plan_stages.staged(plan).weeks)
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
