"""The conversation engine as a unit: sessions, the transition table, wording keys, robustness."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.engine import Engine
from conversations.events import (
    Choice,
    Command,
    Event,
    Reply,
    Text,
    Toast,
    TurnResult,
    Unsupported,
    parse_command,
)
from conversations.machine import (
    AGE_STEP,
    CHECKLIST_STEP,
    CONFIRM_STEP,
    DONE,
    DURATION_STEP,
    EMERGENCY_STEP,
    TELL_APART_STEP,
    TRANSITIONS,
    WARNING_STEP,
    mermaid,
)
from conversations.render import SECTIONS
from conversations.session import MAX_BACK_STEPS, SCHEMA_VERSION, Frame, Session, SessionError
from knowledge.recovery_data import load_companion

ROOT = Path(__file__).resolve().parent.parent
RESTARTS = ("start", "restart", "cancel", "forget")


def _pair(result: TurnResult) -> tuple[Session, list[Reply]]:
    return result.session, result.replies


def _talk(engine: Engine, *texts: str, session: Session | None = None) -> tuple[Session, list[Reply]]:
    session = session or engine.new_session()
    replies: list[Reply] = []
    for text in texts:
        session, replies = _pair(engine.handle(session, Text(text)))
    return session, replies


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


# ----- the transition table and its diagram ------------------------------------------------------
def test_state_diagram_file_matches_the_transition_table() -> None:
    assert (ROOT / "conversations" / "states.mmd").read_text(encoding="utf-8") == mermaid()


def test_every_question_is_a_target_in_the_table() -> None:
    steps = {
        "location",
        "trigger",
        EMERGENCY_STEP,
        WARNING_STEP,
        CHECKLIST_STEP,
        AGE_STEP,
        DURATION_STEP,
        CONFIRM_STEP,
        TELL_APART_STEP,
        DONE,
    }
    assert {t.target for t in TRANSITIONS} == steps
    assert {t.flow for t in TRANSITIONS} == {"triage", "check", "*"}


# ----- wording --------------------------------------------------------------------------------------
SAY_CALLS = {"say", "say_text", "message", "reset", "inform_key"}


def _literal_keys(node: ast.AST | None) -> set[str]:
    """Message keys an expression can evaluate to: literals, `a if c else b`, `{..}.get(k, default)`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literal_keys(node.body) | _literal_keys(node.orelse)
    if isinstance(node, ast.Dict):
        return set().union(*(_literal_keys(v) for v in node.values)) if node.values else set()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return _literal_keys(node.func.value) | set().union(*(_literal_keys(a) for a in node.args[1:]))
    return set()


def message_keys_in(source: str) -> set[str]:
    """Keys passed to say / say_text / message (directly or through a `...key = ...` variable)."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SAY_CALLS and node.args:
                keys |= _literal_keys(node.args[0])
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("key") for t in node.targets
        ):
            keys |= _literal_keys(node.value)
    return {k for k in keys if k.replace("_", "").isalnum() and k.islower()}


def test_every_message_key_the_code_uses_exists(engine: Engine) -> None:
    files = sorted((ROOT / "conversations").rglob("*.py"))
    assert any(p.parent.name == "flows" for p in files), "the scan covers the flows"
    used: set[str] = set()
    for path in files:
        used |= message_keys_in(path.read_text(encoding="utf-8"))
    # keys built with f-strings
    used |= {f"ask_location_{r}" for r in ("hip", "lower_back", "any")}
    used |= {f"region_{r}" for r in ("hip", "lower_back")}
    used |= {f"button_section_{s}" for s in SECTIONS}
    assert {"welcome", "internal_error", "emergency", "menu_expired", "screen_together"} <= used, (
        "the scan works"
    )
    known = set(engine.knowledge.messages) | set(load_companion(engine.knowledge).messages)
    assert not used - known


def test_the_key_scan_sees_variables_conditionals_and_lookups() -> None:
    source = (
        "def f(self, x):\n"
        "    key = 'a_key' if x else 'b_key'\n"
        "    self.say({'thanks': 'c_key'}.get(x, 'd_key'))\n"
        "    turn.say_text('e_key')\n"
    )
    assert message_keys_in(source) == {"a_key", "b_key", "c_key", "d_key", "e_key"}


# ----- sessions --------------------------------------------------------------------------------------
def test_session_round_trips_through_json(engine: Engine) -> None:
    session, _ = _talk(engine, "front of my hip hurts when I sprint", "no")
    assert session.top is not None and session.cleared
    assert Session.from_json(session.to_json()) == session
    assert session.version == SCHEMA_VERSION


def test_a_paused_stack_round_trips(engine: Engine) -> None:
    session, _ = _talk(engine, "front of my hip hurts when I sprint")
    session, _ = _pair(engine.handle(session, Command("redflags")))
    assert [f.flow for f in session.stack] == ["triage", "check"]
    assert Session.from_json(session.to_json()) == session


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "null",
        "[]",
        "{]",
        '{"state": "nowhere"}',
        '{"menu": -1}',
        '{"menu": true}',
        '{"flags": "cauda_equina"}',
        '{"surprise": 1}',
        '{"version": 99}',
        '{"stack": {}}',
        '{"stack": [1]}',
        '{"stack": [{"flow": "triage", "surprise": 1}]}',
        '{"stack": [{"flow": "triage", "trigger_done": "yes"}]}',
        '{"stack": [{"flow": "triage", "concepts": "hip"}]}',
        '{"stack": [{"step": "location"}]}',
        '{"back": [1]}',
        '{"back": [{"stack": [1]}]}',
        '{"urgency": 3}',
        '{"version": 1, "surprise": 1}',
    ],
)
def test_unreadable_stored_session_raises_session_error(stored: str) -> None:
    with pytest.raises(SessionError):
        Session.from_json(stored)


@pytest.mark.parametrize(
    ("session", "problem"),
    [
        (Session(stack=[Frame("nonsense")]), "unknown flow"),
        (Session(stack=[Frame("triage", region="knee")]), "unknown region"),
        (Session(stack=[Frame("triage", concepts=["a_clue_renamed_since"])]), "unknown concept"),
        (Session(flags=["a_flag_removed_since"]), "unknown flag"),
        (Session(urgency="whenever"), "unknown urgency"),
        (Session(last_condition="housemaids_knee"), "unknown condition"),
    ],
)
def test_a_session_that_no_longer_fits_the_data_has_problems(
    engine: Engine, session: Session, problem: str
) -> None:
    assert any(problem in p for p in engine.problems(session))


def test_a_version_1_session_is_upgraded(engine: Engine) -> None:
    v1 = {
        "state": "screen",
        "flow": "triage",
        "region": "hip",
        "location": "hip_front",
        "trigger_done": True,
        "concepts": ["hip_front"],
        "negated": [],
        "flags": ["night_pain"],
        "cleared": ["cauda_equina"],
        "screen": ["cannot_bear_weight"],
        "screen_started": True,
        "menu": 7,
        "back": [{"state": "trigger"}],
        "last_condition": "",
        "version": 1,
    }
    session = Session.from_dict(v1)
    assert session.version == SCHEMA_VERSION
    assert [(f.flow, f.region, f.location, f.trigger_done) for f in session.stack] == [
        ("triage", "hip", "hip_front", True)
    ]
    assert (session.flags, session.cleared, session.menu, session.back) == (
        ["night_pain"],
        ["cauda_equina"],
        7,
        [],
    )
    assert not engine.problems(session)
    # the triage carries on from what it knew: the emergency question is answered, so the pending
    # question is the checklist (without the sign already raised), and "no" answers it
    after, replies = _pair(engine.handle(session, Text("hello")))
    assert replies[-1].asks == WARNING_STEP
    assert "• pain that wakes you at night" not in replies[-1].plain
    after, replies = _pair(engine.handle(after, Text("no")))
    assert replies[-1].asks == "age"  # asked once, skippable: "3 days" answers how long
    after, replies = _pair(engine.handle(after, Text("3 days")))
    assert replies[-1].kind == "result" and after.age == "skipped"
    assert Session.from_json(after.to_json()) == after


V1_TRIAGE = {
    "state": "screen",
    "flow": "triage",
    "region": "hip",
    "location": "hip_front",
    "trigger_done": True,
    "concepts": ["hip_front"],
    "cleared": ["cauda_equina"],
    "menu": 7,
    "version": 1,
}


def test_an_upgraded_triage_asks_its_next_question_after_an_interruption(engine: Engine) -> None:
    _, replies = _pair(engine.handle(Session.from_dict(V1_TRIAGE), Text("hello")))
    assert replies[-1].asks == WARNING_STEP


def test_a_version_1_session_at_the_menu_and_in_the_check_are_upgraded() -> None:
    assert Session.from_dict({"state": "idle", "flow": "", "menu": 3, "version": 1}) == Session(menu=3)
    check = Session.from_dict({"state": "screen", "flow": "check", "version": 1})
    assert [f.flow for f in check.stack] == ["check"]


def test_session_never_holds_what_the_runner_wrote(engine: Engine) -> None:
    secret = "my unusual zebra-striped hip hurts at the front when I sprint"
    session, _ = _talk(engine, secret, "no", "no zebras", "can a zebra still run?")
    assert "zebra" not in session.to_json()


def test_engine_does_not_change_the_session_it_is_given(engine: Engine) -> None:
    session, _ = _talk(engine, "my hip hurts")
    before = session.to_json()
    engine.handle(session, Text("front"))
    engine.handle(session, Text("I can't control my bladder"))
    assert session.to_json() == before


def test_a_bug_costs_an_apology_not_the_conversation(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    session, _ = _talk(engine, "my hip hurts")

    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("conversations.engine.Turn.on_text", broken)
    after, replies = _pair(engine.handle(session, Text("front")))
    assert "something went wrong" in replies[0].text
    assert replies[-1].asks == "location"
    assert after.stack == session.stack


# ----- replies and effects ---------------------------------------------------------------------------
def test_reply_plain_has_no_tags_and_unescapes() -> None:
    reply = Reply("<b>Most likely:</b> a &amp; b <i>x</i>\n<blockquote expandable>more</blockquote>")
    assert reply.plain == "Most likely: a & b x\nmore"


def test_reply_trace_names_what_a_reply_means(engine: Engine) -> None:
    session, replies = _talk(engine, "front of my hip hurts when I sprint", "no", "no", "no")
    result = replies[-1].trace()
    assert result["kind"] == "result" and result["condition"] == "hip_flexor_strain"
    assert {"urgency", "flags", "buttons", "text"} <= set(result) and "<b>" not in result["text"]
    _, replies = _pair(engine.handle(session, Text("I can't control my bladder")))
    assert [r.trace()["kind"] for r in replies] == ["emergency"]
    assert replies[0].trace()["urgency"] == "emergency"


def test_forget_is_an_effect_only_once_confirmed(engine: Engine) -> None:
    asked = engine.handle(engine.new_session(), Command("forget"))
    assert not any(type(e).__name__ == "Forget" for e in asked.effects)  # a question first
    assert [b.label for b in asked.replies[-1].buttons][:2] == ["Delete everything", "Keep my data"]
    for answer in ("no", "keep it", "hmm", "yes"):  # only a clear "delete" deletes
        kept = engine.handle(asked.session, Text(answer))
        assert not any(type(e).__name__ == "Forget" for e in kept.effects), answer
    confirmed = engine.handle(asked.session, Choice(asked.replies[-1].buttons[0].data))
    assert any(type(e).__name__ == "Forget" for e in confirmed.effects)
    typed = engine.handle(asked.session, Text("yes, delete"))
    assert any(type(e).__name__ == "Forget" for e in typed.effects)
    stale = engine.handle(confirmed.session, Choice(asked.replies[-1].buttons[0].data))
    assert not any(type(e).__name__ == "Forget" for e in stale.effects)  # an old button deletes nothing


def test_a_stale_button_is_a_toast_and_no_message(engine: Engine) -> None:
    session, _ = _talk(engine, "my hip hurts", "front")
    result = engine.handle(session, Choice("1:location:hip_front"))
    assert result.replies == [] and any(isinstance(e, Toast) for e in result.effects)
    assert result.session.stack == session.stack


# ----- known engine bugs (strict: a fix makes these pass, and the marker must go) ---------------------
def test_running_for_years_is_not_how_long_it_has_hurt(engine: Engine) -> None:
    session, replies = _talk(
        engine, "I've been running for years and love it. My hip hurts at the front when I sprint"
    )
    assert not any("7–10 days" in r.plain for r in replies)
    assert "persistent_pain" not in session.flags


def test_a_description_is_not_answered_as_a_question(engine: Engine) -> None:
    _, replies = _talk(
        engine, "front of hip kills wen i bring my knee up 2 my chest, was doin sprint drills yday"
    )
    assert [r.kind for r in replies] == ["question"]


def test_naming_signs_at_which_ones_does_not_crash(engine: Engine) -> None:
    session, _ = _pair(engine.handle(engine.new_session(), Command("redflags")))
    session, replies = _talk(engine, "no", "yes", "it wakes me at night", session=session)
    assert not any("something went wrong" in r.plain for r in replies)
    assert "night_pain" in session.flags


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/start", "start"),
        ("/Prevent now", "prevent"),
        ("/redflags@runner_bot", "redflags"),
        ("/", None),
        ("hello", None),
        ("/💥", None),
        ("  /help", "help"),
    ],
)
def test_parse_command(text: str, command: str | None) -> None:
    parsed = parse_command(text)
    assert (parsed.name if parsed else None) == command


def test_parse_command_keeps_the_deep_link_argument() -> None:
    assert parse_command("/start HIP") == Command("start", "hip")


# ----- any sequence of events leaves a valid session -------------------------------------------
PHRASES = [
    "front of my hip hurts when I sprint",
    "side of hip on stairs",
    "snapping outside hip",
    "lower back middle",
    "one side of my bum when twisting",
    "pain down my leg",
    "and my lower back too",
    "no wait, it's my hip",
    "yes",
    "yes, stairs too",
    "no",
    "none of those",
    "n",
    "1",
    "2",
    "3",
    "7",
    "maybe",
    "not sure",
    "what do you mean?",
    "3 days",
    "since Sunday",
    "for months",
    "can I still run?",
    "should I call an ambulance?",
    "thanks",
    "ok",
    "I can't control my bladder",
    "it wakes me at night",
    "my knee hurts",
    "",
    "   ",
    "🏃",
    "x" * 5000,
    "'; DROP TABLE sessions; --",
    "\x00\x1b[2J",
    "/back",
    "/cancel",
    "/start hip",
    "²",  # a digit to str.isdigit(), not to int()
    "٣",
]
COMMANDS = [
    "start",
    "restart",
    "cancel",
    "back",
    "help",
    "about",
    "prevent",
    "redflags",
    "forget",
    "privacy",
    "bogus",
]
tap = st.integers(min_value=0, max_value=20).map(lambda i: ("tap", i))
events = st.one_of(
    st.sampled_from(PHRASES).map(lambda t: ("event", Text(t))),
    st.text(max_size=200).map(lambda t: ("event", Text(t))),
    st.sampled_from(COMMANDS).map(lambda c: ("event", Command(c))),
    st.text(max_size=70).map(lambda d: ("event", Choice(d))),
    st.sampled_from(["photo", "sticker", "voice", "location", "document", "edited"]).map(
        lambda k: ("event", Unsupported(k))
    ),
    tap,
    tap,
)


def resolve(step: tuple[str, object], buttons: list) -> Event:
    kind, value = step
    if kind == "event":
        return value  # type: ignore[return-value]
    return Choice(buttons[value % len(buttons)].data) if buttons else Text("hello")  # type: ignore[operator]


def check_turn(engine: Engine, before: Session, event: Event, result: TurnResult) -> None:
    """What must hold after every turn, whatever came before."""
    session, replies = result.session, result.replies
    kinds = [r.kind for r in replies]
    assert replies or any(isinstance(e, Toast) for e in result.effects), "every event gets an answer"
    assert not engine.problems(session), engine.problems(session)
    assert Session.from_json(session.to_json()) == session
    assert not any("something went wrong" in r.text for r in replies)
    assert len(session.back) <= MAX_BACK_STEPS
    if "emergency" in kinds:  # the emergency advice, and nothing after it
        assert kinds[kinds.index("emergency") + 1 :] == [] and "result" not in kinds
        assert session.top is not None and session.top.flow == "aftermath"
    was_aftermath = before.top is not None and before.top.flow == "aftermath"
    if was_aftermath and session.top is not None and session.top.flow == "aftermath":
        assert not {"result", "question", "warning"} & set(kinds), kinds
    if kinds.count("question") > 1:
        pytest.fail(f"one question a turn: {kinds}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=25))
def test_no_sequence_of_events_raises_or_leaves_an_invalid_state(engine: Engine, steps: list) -> None:
    session, replies = _pair(engine.welcome(engine.new_session()))
    buttons = [b for r in replies for b in r.buttons]
    for step in steps:
        given_json = session.to_json()
        event = resolve(step, buttons)
        result = engine.handle(session, event)
        assert session.to_json() == given_json, "the engine never changes the session it is given"
        check_turn(engine, session, event, result)
        session = result.session
        fresh = [b for r in result.replies for b in r.buttons]
        buttons = fresh or buttons


def test_the_emergency_is_never_followed_by_a_result(engine: Engine) -> None:
    """The pattern issue 8 found: the triage knew where it hurt, then an emergency, then a result."""
    for first in ("front of my hip hurts when I lift my knee", "lower back middle"):
        session, replies = _talk(engine, first, "no", "no and I can't control my bladder")
        assert [r.kind for r in replies] == ["emergency"]
        for text in ("no", "no", "under a week", "front", "ok so what is it?"):
            session, replies = _talk(engine, text, session=session)
            assert "result" not in [r.kind for r in replies]
        assert json.loads(session.to_json())["urgency"] == "emergency"


def test_after_an_engine_error_the_warning_signs_in_the_message_are_still_answered(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conversations.flows import FLOWS

    session, _ = _talk(engine, "my hip hurts")

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the flow")

    monkeypatch.setattr(FLOWS["triage"], "on_text", broken)
    after, replies = _pair(engine.handle(session, Text("front, and I can't control my bladder")))
    assert [r.kind for r in replies] == ["emergency"]
    assert "cauda_equina" in after.flags


def test_a_reminder_due_mid_triage_is_one_line_and_leaves_the_question_pending(engine: Engine) -> None:
    from conversations.events import ReminderDue
    from conversations.recovery_records import ChatRecords, Plan

    session, _ = _talk(engine, "front of my hip hurts when I sprint")
    records = ChatRecords(plans=(Plan(id="p1", condition="hip_flexor_strain", start="2026-11-20"),))
    after, replies = _pair(engine.handle(session, ReminderDue(), records))
    assert [r.topic for r in replies] == ["reminder"]
    assert after.top is not None and after.top.step == session.top.step  # type: ignore[union-attr]
