"""Stage 3 of the chain, questions and small talk: answered in any state, then a paused flow asks
its question again. Also other subjects (out of scope) and questions the topic reader could not
place. A message that both answers the pending question and asks one is read by the flow first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations import clues
from conversations.events import Button, Reply
from conversations.machine import SAFETY_STEPS
from conversations.render import CONDITION_TOPICS, info_data
from knowledge.recovery_data import PAIN_SCORE_WORDS
from knowledge.safety import situation

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.turn import Turn

# situations after which hip or back pain described in the same message is triaged as usual
# (pelvic girdle pain in pregnancy is for the midwife and a pelvic-health physiotherapist)
TRIAGED_SITUATIONS = frozenset({"hip_replacement_other_side", "fever_run_it_off"})
QUESTION_OPENERS = frozenset(
    "what whats how why can could should would will is isnt are do does did when which who where any".split()
)


def asks_something(text: str) -> bool:
    """Whether a message is put as a question: a question mark, or a question word first."""
    first = text.strip().lower().split(maxsplit=1)[:1]
    return "?" in text or bool(first and first[0].strip(",.!'’") in QUESTION_OPENERS)


def note_suspected(turn: Turn, message: MessageReading) -> None:
    """A warning sign the learned reader suspects where the rules raised none ("been going to
    the toilet a lot"): asked about explicitly at the end of the turn, in place of the pending
    question (the confirm question: yes raises it as the screen does, doubt is never a no)."""
    flag = message.suspected_flag
    if flag is None or message.flags or turn.in_aftermath() or turn.context.known(turn.session, flag):
        return
    if flag in turn.knowledge.red_flags and flag not in turn.to_confirm:
        turn.to_confirm.append(flag)


def answer(turn: Turn, message: MessageReading) -> bool:
    """Questions, small talk and other subjects, answered in any state. True when handled.

    A paused flow then asks its question again. A message that both answers the pending
    question and asks one ("no — can I still run?") is read by the flow first.
    """
    topic = message.topic
    frame = turn.session.top
    if special_situation(turn, message):
        return True
    if message.intent.which_first and asks_something(message.text) and not turn.in_aftermath():
        which_first(turn)
        return True
    if names_the_region_in_hand(turn, message):
        turn.say("region_in_hand", region=turn.region_name(frame.region) if frame else "")
        turn.ask()
        return True
    if message.intent.pause and not describes_pain(turn, message) and message.answer.value == "none":
        small_talk(turn, "pause")
        return True
    if topic is None:
        return out_of_scope(turn, message)
    if frame is not None and frame.step and message.answer.value == "unsure":
        return False  # "not sure", "what do you mean?": the flow explains its question
    if topic == "small_talk":
        if frame is not None and frame.step in SAFETY_STEPS and message.answer.value in ("yes", "no"):
            return False  # "no thanks" to a safety question is an answer
        if describes_pain(turn, message):
            return False  # "hi, my back hurts": the description is what matters
        small_talk(turn, message.small_talk or "greeting")
        return True
    if turn.in_aftermath():
        return False  # after an emergency, only help to act on it
    if topic == "out_of_scope" and not names_another_problem(turn, message):
        return out_of_scope(turn, message, certain=True)
    if frame is not None and frame.step and not asks_something(message.text):
        return False  # mid-flow, a statement ("bending forward to tie my shoes") is an answer
    if frame is not None and frame.step and in_companion_flow_it_knows(turn, message):
        return False  # mid-way through a companion flow: the flow answers what it knows ("what should my pain be?")
    answers_too = frame is not None and frame.step in SAFETY_STEPS and message.answer.value in ("yes", "no")
    if message.clarify and frame is None:
        # two close readings: ask, rather than answer the wrong one — only with nothing pending:
        # mid-triage the reading's first topic is answered and the question asked again (the
        # reading carries no margin to demand a larger one there, and a detour costs a turn)
        ask_clarify(turn, message)
        return True
    if answers_too and frame is not None:
        turn.flow(frame).on_text(turn, frame, message)
        if turn.in_aftermath():
            return True
    condition = message.topic_condition or subject(turn)
    if (
        condition is None
        and topic in CONDITION_TOPICS
        and any(f.flow == "triage" for f in turn.session.stack)
    ):
        reply = Reply(turn.say_text("answer_after_triage"), kind="answer", topic=topic)
    else:
        reply = turn.render.answer(topic, condition, turn.said(), turn.flag_advice())
    question = [r for r in turn.replies if r.kind == "question"]
    turn.replies = [r for r in turn.replies if r.kind != "question"] + [reply]
    if answers_too:
        turn.replies += question
    elif frame is not None:
        turn.ask(reminder=True)
    elif message.concepts & turn.engine.in_scope_concepts:
        clues.start_triage(turn, message=message)  # a question that also describes pain
    return True


def in_companion_flow_it_knows(turn: Turn, message: MessageReading) -> bool:
    """A question mid-way through a companion flow (/log, /plan ...) that the flow answers from
    its own facts: one the reader is unsure of, or how much pain is allowed."""
    frame = turn.session.top
    if frame is None or not hasattr(turn.flow(frame), "read_first"):
        return False
    return bool(message.clarify) or (message.topic == "keep_running" and bool(PAIN_SCORE_WORDS.search(message.text)))


def names_the_region_in_hand(turn: Turn, message: MessageReading) -> bool:
    """ "ok and the back?" while the back is being asked about: the runner asks to go on with it,
    so the pending question is what comes next (not "I didn't catch that")."""
    frame = turn.session.top
    if frame is None or frame.flow != "triage" or not frame.region or not asks_something(message.text):
        return False
    if message.topic not in (None, "small_talk"):
        return False  # "what's the SI joint anyway?" asks something of its own
    said = turn.engine.matcher.read(message.text).concepts - {"small_talk"}
    names = {c for c in said if c.endswith("_name")}
    return bool(said) and not names and said <= turn.engine.region_concepts[frame.region]


def which_first(turn: Turn) -> None:
    """ "Which should I work on first?": the one with a warning first, else the one that holds
    the running back more — then any paused question again (a finished triage is not restarted)."""
    warned = turn.session.urgency not in ("", "self_care")
    turn.say("which_first_warned" if warned else "which_first", kind="answer")
    if turn.session.top is not None:
        turn.ask(reminder=True)


def ask_clarify(turn: Turn, message: MessageReading) -> None:
    """ "Do you mean: A / B?" with a button for each; the button answers its topic, then any
    paused flow asks its question again (buttons.py, "clarified")."""
    labels = turn.knowledge.questions.clarify_buttons
    condition = message.topic_condition or subject(turn) or ""
    topics = message.clarify or ()
    buttons = tuple(Button(labels.get(t, t), info_data("clarified", t, condition)) for t in topics)
    text = turn.say_text("clarify_ask", options=" / ".join(labels.get(t, t) for t in topics))
    turn.replies = [r for r in turn.replies if r.kind != "question"]
    turn.replies.append(Reply(text, buttons, kind="question", asks="clarify"))


def special_situation(turn: Turn, message: MessageReading) -> bool:
    """Pregnancy with pelvic pain, a hip replacement, a fever to "run off": answered in their own
    words (safety.yaml situations) rather than as "I don't cover that". True when handled."""
    key = situation(message.text)
    if key is None or turn.in_aftermath():
        return False
    turn.replies.append(turn.render.situation(key))
    if turn.session.top is not None:
        turn.ask(reminder=True)
    elif key in TRIAGED_SITUATIONS and describes_pain(turn, message):
        clues.start_triage(turn, message=message)  # the other hip, the back with a fever: as usual
    return True


def small_talk(turn: Turn, kind: str) -> None:
    """A one-liner for hello, thanks, ok, bye, who are you, what can you do."""
    key = {
        "thanks": "you_are_welcome",
        "bye": "goodbye",
        "who": "about_me",
        "ack": "acknowledged",
        "capabilities": "capabilities",
        "pause": "no_rush",
    }.get(kind, "hello")
    turn.say(key, kind="small_talk")
    if turn.session.top is not None:
        turn.ask(reminder=True)
    elif kind in ("greeting", "capabilities"):
        turn.ask()


def out_of_scope(turn: Turn, message: MessageReading, certain: bool = False) -> bool:
    """Another body part or subject: a clear limit, then the pending question. True when handled."""
    if not certain and not (
        "out_of_scope_body" in message.concepts and not message.concepts & turn.engine.in_scope_concepts
    ):
        return False
    if turn.session.top is None and any(r.kind == "warning" for r in turn.replies):
        pass  # a warning about it has just said what to do (a child's limp with knee pain)
    elif turn.session.top is None:
        turn.say("out_of_scope", kind="out_of_scope")
    else:
        turn.say("out_of_scope_mid_flow", kind="out_of_scope")
        turn.ask(reminder=True)
    return True


def names_another_problem(turn: Turn, message: MessageReading) -> bool:
    """A description that fits a running problem outside the six (an adductor strain): triaged
    to its own card, not turned away as another body part."""
    return not asks_something(message.text) and turn.engine.matcher.assess(message.reading).other is not None


def describes_pain(turn: Turn, message: MessageReading) -> bool:
    """Whether a message says something about pain (a place, a sign, or just "it hurts")."""
    clues = message.concepts - {"small_talk"}
    return bool(
        clues & turn.engine.in_scope_concepts
        or message.flags
        or message.intent.pain
        or clues & turn.engine.trigger_concepts
    )


def subject(turn: Turn) -> str | None:
    """The condition a question without one is about: the last result's.

    In the middle of a triage there is no subject yet: the safety questions come before any
    condition is named, so a question is answered in general until the result.
    """
    if any(frame.flow == "triage" for frame in turn.session.stack):
        return None
    return turn.session.last_condition or None


def unread_question(turn: Turn, message: MessageReading) -> None:
    """A question the topic reader could not place: about a named condition, say what it is;
    otherwise say honestly that it is not one the bot can answer, and what it can."""
    named = turn.engine.matcher.assess(turn.engine.matcher.read(message.text)).condition
    condition = named or turn.session.last_condition or None
    if named or (condition and subject(turn)):
        turn.replies.append(turn.render.answer("what_is", condition, turn.said(), turn.flag_advice()))
    else:
        turn.say("question_not_known", kind="answer")
