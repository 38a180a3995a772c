"""The engine side of the clinical safety layer (issue 18): each warning's own advice, what it
holds back, one safety net, cancer history, age, special situations — and the measure: no card
or answer says stop and keep running together, and none lowers an urgency already said.

Each table row is a conversation (typed messages, or button labels as `tap:LABEL`), what must
appear in the replies to its last message and what must not.
"""

from __future__ import annotations

import pytest

from conversations.engine import Engine
from conversations.events import Choice, Reply, Text
from conversations.render import SECTIONS, info_data
from conversations.session import Session
from knowledge import Urgency
from knowledge.safety import cancer_history_flag, contradictions, running_stance, urgency_worded

HOP = "I have groin pain, it hurts to hop, I upped my mileage a lot"
CANCER = "I'm 60, I had breast cancer 5 years ago and now I have new lower back pain that wakes me at night"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


class Chat:
    """A conversation played against the engine: the session, and every turn's replies."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        welcome = engine.welcome(engine.new_session())
        self.session: Session = welcome.session
        self.turns: list[list[Reply]] = [welcome.replies]

    @property
    def last(self) -> list[Reply]:
        return self.turns[-1]

    def send(self, step: str) -> list[Reply]:
        """A typed message, or `tap:LABEL` to press a button of the newest replies."""
        if step.startswith("tap:"):
            label = step[4:]
            found = [b for r in self.last for b in r.buttons if b.label == label]
            assert found, f"no button {label!r} in {[b.label for r in self.last for b in r.buttons]}"
            event: Text | Choice = Choice(found[-1].data)
        elif step.startswith("data:"):
            event = Choice(step[5:])
        else:
            event = Text(step)
        result = self.engine.handle(self.session, event)
        self.session = result.session
        self.turns.append(result.replies)
        return result.replies

    def play(self, *steps: str) -> Chat:
        for step in steps:
            self.send(step)
        return self


def text(replies: list[Reply]) -> str:
    return "\n".join(r.plain for r in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for b in r.buttons]


# (name, steps, must appear in the last turn, must not appear in it)
TABLE: list[tuple[str, list[str], list[str], list[str]]] = [
    # 1. each warning's own advice, what it holds back
    (
        "stress fracture: the warning is the flag's own advice",
        [HOP],
        ["If walking hurts or you limp, keep your weight off the leg until you are seen", "today"],
        ["Stop running and get a same-day medical assessment (urgent care"],
    ),
    (
        "stress fracture: can I keep running? gets stop-and-get-seen",
        [HOP, "can I keep running?"],
        ["Stop running today", "I'll hold back general advice"],
        ["Often you can keep running", "pain scale"],
    ),
    (
        "stress fracture: can I stretch it? is held back",
        [HOP, "can I keep running?", "can I stretch it?"],
        ["Stop running today", "I'll hold back general advice"],
        ["Stretching after a run is fine", "gentle stretches"],
    ),
    (
        "bone stress held back: the result has no exercises, plan or back-to-running",
        ["tap:Hip pain", "tap:Front of the hip / groin", "tap:None of these / not sure", "tap:No",
         "tap:☐ Hurts to walk / worse each run", "tap:Done ✓", "tap:20–49", "tap:Under a week"],
        ["No exercise plan for now", "keep your weight off the leg", "🛟"],
        ["What to do now", "about 3 out of 10"],
    ),
    # 6. answers respect the warnings already given
    (
        "a teenager told not to stretch is not told how to stretch",
        ["I'm 16 and my lower back hurts when I arch backwards", "can I stretch it?"],
        ["I'll hold back general advice", "Do not start a stretching plan"],
        ["Stretching after a run is fine"],
    ),
    # 3. the safety net on every card
    (
        "lower back: when to see someone names the emergency signs, sexual dysfunction too",
        ["data:" + info_data("section", "seek", "lumbar_strain")],
        ["new trouble with erection or ejaculation", "emergency department now"],
        [],
    ),
    (
        "hip: when to see someone names the stress-fracture signs, today",
        ["data:" + info_data("section", "seek", "gluteal_tendinopathy")],
        ["it hurts to hop", "today"],
        [],
    ),
    # 4. cancer history
    (
        "cancer history with new night back pain: same day, said once",
        [CANCER],
        ["Contact your cancer team or GP today", "emergency department now"],
        ["Book a clinician soon"],
    ),
    (
        "cancer history with a weak leg: the emergency advice",
        [CANCER, "and my leg feels weak"],
        ["Seek emergency care now"],
        [],
    ),
    (
        "/redflags asks about cancer history",
        ["/redflags", "no", "none of these", "under a week"],
        [cancer_history_flag().question],
        [],
    ),
    # 5. age
    (
        "a child's limp with knee pain only: today, and no 'I only cover the hip'",
        ["my son is 9, limping, says his knee hurts"],
        ["today", "even if the pain is only in the knee"],
        ["I only cover the hips and lower back", "within a few days otherwise. I'll take"],
    ),
    (
        "an age answer is not needed: a duration answer skips the question and is the duration",
        ["my hip hurts at the front when I lift my knee", "no", "none of these", "3 days"],
        ["Most likely: Hip flexor strain"],
        ["How old are you?"],
    ),
    (
        "a 15-year-old with a limp: the age warning heads the card, not 'most likely'",
        ["tap:Hip pain", "tap:Front of the hip / groin", "tap:None of these / not sure", "tap:No",
         "tap:☐ Limping", "tap:Done ✓", "tap:Under 16", "tap:Under a week"],
        ["A limp in a child or teenager needs a check today", "No exercise plan for now"],
        ["Most likely", "What to do now"],
    ),
    # 8. sciatica: the disc's floor in its own words
    (
        "sciatica down one leg: a prompt assessment, today only for a weakening leg",
        ["shooting pain from my lower back down my left leg", "no", "none of these", "tap:20–49", "under a week"],
        ["Get a prompt assessment", "today if the leg is getting weaker"],
        ["more urgent than I said before"],
    ),
    # 12. special situations
    (
        "pregnancy with pubic pain: pelvic girdle pain, the midwife",
        ["I'm 30 weeks pregnant and have pain over my pubic bone when I run"],
        ["pelvic girdle pain", "midwife"],
        ["I only cover", "Sorry, I didn't understand"],
    ),
    (
        "a hip replacement on the other side: assessed like any hip pain",
        ["I had a hip replacement on the left, now my right hip hurts"],
        ["assessed like any other hip pain", "Where in the hip is the pain?"],
        ["I only cover"],
    ),
    (
        "fever and 'I'll run it off': a clear push-back",
        ["I have a fever and my back hurts, I'll just run it off"],
        ["Please don't try to run off a fever", "today"],
        [],
    ),
]


@pytest.mark.parametrize(("steps", "must", "must_not"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_safety_layer(engine: Engine, steps: list[str], must: list[str], must_not: list[str]) -> None:
    chat = Chat(engine).play(*steps)
    said = text(chat.last)
    for phrase in must:
        assert phrase in said, f"{phrase!r} not in:\n{said}"
    for phrase in must_not:
        assert phrase not in said, f"{phrase!r} in:\n{said}"


# the spondylolysis picture: its own card (a problem outside the six), named without asking where
TEEN_BACK = ["I'm 16 and my lower back hurts when I arch backwards", "no", "none of these", "under a week"]


def test_held_exercises_hide_their_buttons_and_say_why(engine: Engine) -> None:
    chat = Chat(engine).play(*TEEN_BACK)
    result = next(r for r in chat.last if r.kind == "result")
    shown = [b.label for b in result.buttons]
    assert not any("xercise" in b or "plan" in b.lower() or "running" in b.lower() for b in shown), shown
    assert result.other == "spondylolysis"
    assert "no exercise plan" in result.plain.lower() and "🛟" in result.plain
    # the warning's advice is said once: its urgency line, not again as "what to do now"
    assert result.plain.count("book an assessment") + result.plain.count("Book an assessment") == 1
    # an old Exercises button (they never expire) gives the warning's advice instead
    chat.send("data:" + info_data("section", "exercises", result.condition or "lumbar_strain"))
    assert "I'll hold back general advice" in text(chat.last)


def test_the_age_question_is_asked_once(engine: Engine) -> None:
    chat = Chat(engine).play("my hip hurts at the front when I lift my knee", "no", "none of these")
    assert [r.asks for r in chat.last if r.kind == "question"] == ["age"]
    chat.play("tap:Skip", "tap:Under a week", "my lower back hurts in the middle when I bend", "no", "none of these")
    asked = [r.asks for turn in chat.turns[5:] for r in turn if r.kind == "question"]
    assert "age" not in asked and asked[-1] == "duration"


def test_an_age_in_the_message_is_not_asked(engine: Engine) -> None:
    chat = Chat(engine).play("I'm 34 and my hip hurts at the front when I lift my knee", "no", "none of these")
    assert [r.asks for r in chat.last if r.kind == "question"] == ["duration"]
    assert chat.session.age == "20_49"


def test_cancer_history_is_a_concern_not_an_eval_flag(engine: Engine) -> None:
    chat = Chat(engine).play(CANCER)
    assert cancer_history_flag().id in chat.session.concerns
    assert all(cancer_history_flag().id not in r.flags for turn in chat.turns for r in turn)


# ----- the measure: no stop-and-keep-running together, no urgency lowered ----------------------
URGENCY_CONVERSATIONS = {
    Urgency.SELF_CARE: ["my hip hurts at the front when I lift my knee", "no", "none of these", "tap:20–49", "under a week"],
    Urgency.SOON: ["my hip hurts on the side when I lie on it and it wakes me at night", "no", "none of these",
                   "20-49", "under a week"],
    Urgency.URGENT: [HOP, "tap:No", "tap:None of these", "tap:20–49", "tap:Under a week"],
    Urgency.EMERGENCY: ["my lower back hurts and I can't feel when my bladder is full"],
}


def every_topic_and_section(engine: Engine, condition: str | None) -> list[str]:
    topics = sorted({*engine.knowledge.answers, "what_is", "cause", "symptoms", "treatment", "exercises"})
    steps = ["data:" + info_data("topic", t, condition or "") for t in topics]
    if condition:
        steps += ["data:" + info_data("section", s, condition) for s in (*SECTIONS, "progress")]
    return steps


@pytest.mark.parametrize("urgency", list(URGENCY_CONVERSATIONS), ids=lambda u: u.key)
def test_no_reply_says_stop_and_keep_running_or_lowers_the_urgency(engine: Engine, urgency: Urgency) -> None:
    chat = Chat(engine).play(*URGENCY_CONVERSATIONS[urgency])
    assert chat.session.urgency == urgency.key
    condition = chat.session.last_condition or None
    for step in every_topic_and_section(engine, condition):
        chat.send(step)
    said = Urgency.from_key(chat.session.urgency) if chat.session.urgency else None
    for turn in chat.turns:
        for reply in turn:
            assert not contradictions([reply.plain]), reply.plain
            assert running_stance(reply.plain) != {"stop", "keep"}
    if said is None or said is Urgency.SELF_CARE:
        return
    # after the urgency was said, nothing the runner reads words a lower one without the higher
    for turn in chat.turns[len(URGENCY_CONVERSATIONS[urgency]) + 1 :]:
        for reply in turn:
            worded = urgency_worded(reply.plain)
            if said is Urgency.EMERGENCY:
                assert reply.kind in ("info", "answer", "emergency") and "emergency" in reply.plain.lower(), reply.plain
            elif worded is not None:
                assert worded >= said, (reply.topic, reply.plain)
