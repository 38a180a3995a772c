"""The safety questions, shared by the triage and the /redflags check.

The emergency question (bladder, bowel, saddle, both legs) is asked on its own; the other warning
signs together, as a checklist the runner can tap or answer in words; then how long it has
lasted. A safety question counts as answered only by an answer to it:

- doubt ("not sure", "maybe", "what do you mean?") is never a no: the question is explained in
  plain words and asked again; doubt a second time gets the safer advice;
- a "yes" that goes on about something else ("yes, stairs too") gets a short confirm question;
- anything else (more description) is noted and the question asked again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from conversations import clues
from conversations.machine import (
    CHECKLIST_STEP,
    CONFIRM_STEP,
    DURATION_STEP,
    EMERGENCY_STEP,
    WARNING_STEP,
)
from knowledge import Urgency
from knowledge.intents import LONG_DAYS, Answer

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.session import Frame
    from conversations.turn import Turn

# the words that mean nothing clinical after a "yes" ("yes I do", "yeah a little")
NEUTRAL_CONCEPTS = frozenset({"small_talk", "hip_general", "back_general"})


def on_text(turn: Turn, frame: Frame, message: MessageReading) -> bool:
    """Read a typed answer to a safety question. False when no safety question is pending."""
    step = frame.step
    if step == EMERGENCY_STEP:
        yes_no(turn, frame, message, turn.knowledge.triage.screen.emergency)
    elif step in (WARNING_STEP, CHECKLIST_STEP):
        grouped(turn, frame, message)
    elif step == DURATION_STEP:
        duration(turn, frame, message)
    elif step == CONFIRM_STEP:
        confirm(turn, frame, message)
    else:
        return False
    return True


def on_choice(turn: Turn, frame: Frame, value: str) -> bool:
    """A safety question's button. False when no safety question is pending."""
    step = frame.step
    if step == EMERGENCY_STEP:
        answer_flag(turn, frame, turn.knowledge.triage.screen.emergency, value)
    elif step in (WARNING_STEP, CHECKLIST_STEP):
        tick(turn, frame, value)
    elif step == DURATION_STEP:
        if value == "unsure":
            unsure(turn, frame, step)
        else:
            set_duration(turn, frame, long=value == "long")
    elif step == CONFIRM_STEP:
        answer_flag(turn, frame, frame.confirm, value)
    else:
        return False
    return True


# ----- the emergency question and confirm questions ----------------------------------------
def yes_no(turn: Turn, frame: Frame, message: MessageReading, flag: str) -> None:
    """A typed answer to a yes/no safety question about `flag`."""
    answer = message.answer
    if answer is Answer.YES and goes_on_about_something_else(turn, message, flag):
        note(turn, frame, message)
        ask_confirm(turn, frame, flag)
    elif answer is Answer.NO and denies_only_part(turn, message, flag):
        note(turn, frame, message)
        ask_confirm(turn, frame, flag)  # "no bladder problems": and the rest of the question?
    elif answer in (Answer.YES, Answer.NO, Answer.UNSURE):
        note(turn, frame, message)
        turn.typed_label = turn.current_options().get(answer.value, "")  # shown where the buttons were
        answer_flag(turn, frame, flag, answer.value)
    else:
        not_an_answer(turn, frame, message)


def confirm(turn: Turn, frame: Frame, message: MessageReading) -> None:
    """A typed answer to "just to check: did you mean yes to ...?"."""
    if message.answer is Answer.NONE:
        not_an_answer(turn, frame, message)
    else:
        answer_flag(turn, frame, frame.confirm, message.answer.value)


def goes_on_about_something_else(turn: Turn, message: MessageReading, flag: str) -> bool:
    """ "yes, stairs too", "yeah and also when I sit for ages": a yes followed by something that
    is not about the sign asked (read on its own, so a question-like tail cannot hide it)."""
    detect = set(turn.knowledge.red_flags[flag].detect)
    rest = turn.engine.matcher.read(" ".join(message.intent.rest)).concepts if message.intent.rest else frozenset()
    clues = (message.concepts | rest) - NEUTRAL_CONCEPTS
    if clues & detect:
        return False
    return bool(clues) or (message.intent.also and len(message.intent.rest) >= 3)


# a no said on its own before anything else ("No. No saddle anaesthesia, continence normal"):
# the whole question is answered, the rest is detail
_STANDALONE_NO = re.compile(r"^\W*(?:no+|nope|nah|none|negative|not at all)\s*[.,!;:\n—–-]", re.IGNORECASE)


def denies_only_part(turn: Turn, message: MessageReading, flag: str) -> bool:
    """ "No bladder problems" to a question about several signs: only one of them is answered."""
    if _STANDALONE_NO.match(message.text):
        return False
    signs = {c for c in turn.knowledge.red_flags[flag].detect if not c.endswith("_name")}
    denied = message.reading.negated & signs
    return bool(denied) and bool(signs - denied)


def ask_confirm(turn: Turn, frame: Frame, flag: str) -> None:
    if frame.step != CONFIRM_STEP:
        frame.resume = frame.step
    frame.step, frame.confirm = CONFIRM_STEP, flag
    turn.ask()


def answer_flag(turn: Turn, frame: Frame, flag: str, value: str) -> None:
    """Yes, no or not sure to the sign `flag` (from a button or in words)."""
    question = frame.resume if frame.step == CONFIRM_STEP else frame.step
    if value == "unsure":
        unsure(turn, frame, question)
        return
    leave_confirm(frame)
    if value == "yes":
        if turn.raise_flags([flag]):
            return  # an emergency: nothing after it
    else:
        turn.clear([flag])
    turn.advance()


def leave_confirm(frame: Frame) -> None:
    if frame.step == CONFIRM_STEP:
        frame.step, frame.confirm, frame.resume = frame.resume, "", ""


# ----- the grouped warning signs ------------------------------------------------------------------
def grouped(turn: Turn, frame: Frame, message: MessageReading) -> None:
    """A typed answer to "do you have any of these?" (or "which of them?")."""
    session = turn.session
    denied = [f for f in frame.items if message.reading.negated & set(turn.knowledge.red_flags[f].detect)]
    turn.clear(denied)
    named = [f for f in frame.items if f in session.flags]
    remaining = [f for f in frame.items if not turn.context.known(session, f)]
    answer = message.answer
    note(turn, frame, message)
    if frame.ticked and (answer is Answer.NO or message.intent.done):
        done_ticking(turn, frame)  # "that's all", "no others" after ticking some
    elif message.intent.done and not named:
        turn.clear(remaining)  # "done", "that's it": the rest are a no
        turn.advance()
    elif answer is Answer.UNSURE and not named:
        unsure(turn, frame, frame.step)
    elif answer is Answer.NO:
        turn.typed_label = turn.current_options().get("no", "")
        turn.clear(remaining)  # "no", or "no, just the limp": the rest are a no
        turn.advance()
    elif named or denied:
        frame.items = remaining
        turn.advance("which") if remaining else turn.advance()
    elif answer is Answer.YES:
        frame.items = remaining
        turn.advance("which")
    else:
        not_an_answer(turn, frame, message)


def tick(turn: Turn, frame: Frame, value: str) -> None:
    """A sign's box in the checklist (ticked or unticked in place), or "none of these" / "done"."""
    if value in frame.items:
        frame.ticked = [f for f in frame.ticked if f != value] if value in frame.ticked else [*frame.ticked, value]
        turn.ask(in_place=True)
    else:
        done_ticking(turn, frame)


def done_ticking(turn: Turn, frame: Frame) -> None:
    """ "Done": the ticked signs are reported (one warning for all), the rest are a no."""
    ticked, frame.ticked = frame.ticked, []
    turn.clear([f for f in frame.items if f not in ticked])
    if turn.raise_flags(ticked):
        return
    turn.advance()


# ----- how long ----------------------------------------------------------------------------------
def duration(turn: Turn, frame: Frame, message: MessageReading) -> None:
    """A typed answer to "has it lasted more than a week or so?"."""
    days, answer = message.intent.days, message.answer
    note(turn, frame, message)
    if days is not None or answer in (Answer.YES, Answer.NO):
        long = days >= LONG_DAYS if days is not None else answer is Answer.YES
        turn.typed_label = turn.current_options().get("long" if long else "short", "")
        set_duration(turn, frame, long=long)
    elif answer is Answer.UNSURE:
        unsure(turn, frame, frame.step)
    else:
        not_an_answer(turn, frame, message)


def set_duration(turn: Turn, frame: Frame, long: bool) -> None:
    frame.duration = "long" if long else "short"
    flag = turn.knowledge.triage.screen.duration
    if long:
        turn.raise_flags([flag])
    elif frame.flow == "check":
        turn.clear([flag])
    turn.advance()


# ----- doubt and other answers ---------------------------------------------------------------
def unsure(turn: Turn, frame: Frame, step: str) -> None:
    """Doubt is never a no: explain and ask again; a second time, give the safer advice."""
    leave_confirm(frame)
    frame.step = step
    if step not in frame.unsure:
        frame.unsure.append(step)
        turn.ask(explain=True)
        return
    session = turn.session
    if step == EMERGENCY_STEP:
        session.doubtful.append(turn.knowledge.triage.screen.emergency)
        give_doubt_advice(turn, step, Urgency.URGENT)
    elif step in (WARNING_STEP, CHECKLIST_STEP):
        session.doubtful.extend(f for f in frame.items if f not in session.doubtful)
        give_doubt_advice(turn, step, Urgency.SOON)
    else:
        frame.duration = "unknown"
    turn.advance()


def give_doubt_advice(turn: Turn, step: str, urgency: Urgency) -> None:
    said = turn.said()
    turn.replies.append(turn.render.doubt_advice(step, max(urgency, said) if said else urgency))
    turn.note_said(urgency)


def not_an_answer(turn: Turn, frame: Frame, message: MessageReading) -> None:
    """Something other than an answer: keep what it says, and ask the same question again."""
    if note(turn, frame, message):
        if not any(r.kind == "warning" for r in turn.replies):  # a warning has said it is noted
            turn.say("noted_more")
        turn.ask()
    elif "?" in message.text:
        in_triage = any(f.flow == "triage" for f in turn.session.stack)
        turn.say("answer_after_triage" if in_triage else "question_not_known", kind="answer")
        turn.ask(reminder=True)
    else:
        turn.say("need_an_answer", kind="not_understood")
        turn.ask(explain=True)


def note(turn: Turn, frame: Frame, message: MessageReading) -> bool:
    """Keep what an answer adds ("no, but it's worse on stairs", "since Sunday"). True if anything."""
    noted = False
    if frame.flow == "triage" and message.concepts - NEUTRAL_CONCEPTS:
        clues.merge(turn, frame, message.reading)
        noted = True
    if frame.flow == "triage" and message.intent.days is not None and frame.step != DURATION_STEP:
        clues.note_duration(turn, frame, message)
        noted = True
    return noted
