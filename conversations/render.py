"""Turn conversation state and match results into replies. All wording comes from the data.

Texts are plain (no Markdown), so every front end can show them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from conversations.events import Button, Reply
from conversations.session import Session, State
from knowledge import Exercise, Fact, Knowledge, MatchResult, RedFlag, Urgency

RUNNER_UP_SHARE = 0.6  # mention the second condition when it scores at least this share of the first


class Renderer:
    """Builds every reply from the knowledge base's messages and content."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.say = knowledge.message

    # ----- questions and their buttons ----------------------------------------------
    def options(self, session: Session, location: str) -> dict[str, str]:
        """The current question's options, as option id -> button label."""
        triage = self.knowledge.triage
        if session.state is State.IDLE:
            return {
                "hip": triage.regions["hip"].label,
                "lower_back": triage.regions["lower_back"].label,
                "prevent": self.say("menu_prevent"),
                "redflags": self.say("menu_redflags"),
            }
        if session.state is State.LOCATION:
            region = triage.regions.get(session.region)
            ids = region.locations if region else tuple(triage.locations)
            return {i: triage.locations[i].label for i in ids} | {"elsewhere": self.say("option_elsewhere")}
        if session.state is State.TRIGGER:
            chosen = triage.locations.get(location)
            ids = chosen.follow_ups if chosen else tuple(triage.triggers)
            return {i: triage.triggers[i].label for i in ids} | {"none": self.say("option_no_trigger")}
        return {"yes": self.say("option_yes"), "no": self.say("option_no")}

    def question(self, session: Session, location: str, reminder: bool = False) -> Reply:
        """The current question (or the menu) with its buttons."""
        text = self._question_text(session)
        if reminder:
            text = f"{self.say('reminder')}\n{text}"
        buttons = tuple(
            Button(label, f"{session.menu}:{key}") for key, label in self.options(session, location).items()
        )
        return Reply(text, buttons)

    def _question_text(self, session: Session) -> str:
        if session.state is State.IDLE:
            return self.say("menu_prompt")
        if session.state is State.LOCATION:
            return self.say(f"ask_location_{session.region or 'any'}")
        if session.state is State.TRIGGER:
            return self.say("ask_trigger")
        step = session.screen[0] if session.screen else ""
        if step == "together":
            names = [self.knowledge.red_flags[f] for f in self.knowledge.triage.screen.together]
            pending = [f.name for f in names if f.id not in session.flags and f.id not in session.cleared]
            return self.say("screen_together", signs=_bullets(pending))
        flag = self.knowledge.red_flags.get(step)
        if flag is None:
            return self.say("menu_prompt")
        if flag.id == self.knowledge.triage.screen.emergency:
            return self.say("screen_emergency", question=flag.question)
        return flag.question

    # ----- warnings --------------------------------------------------------------------
    def warnings(self, flag_ids: Iterable[str], carried: bool) -> list[Reply]:
        """Replies for red flags just mentioned: an emergency message first, then the rest."""
        flags = self._by_urgency(flag_ids)
        emergency = [f for f in flags if f.urgency is Urgency.EMERGENCY]
        others = [f for f in flags if f.urgency is not Urgency.EMERGENCY]
        replies = []
        if emergency:
            advice = self.knowledge.urgency_advice[Urgency.EMERGENCY]
            meaning = " ".join(dict.fromkeys(f.meaning for f in emergency))
            replies.append(
                Reply(
                    self.say("emergency", title=advice.title, meaning=meaning, advice=advice.advice),
                    emergency=True,
                )
            )
        if others:
            top = self.knowledge.urgency_advice[others[0].urgency]
            names = "; ".join(f.name for f in others)
            key = "flag_noted_carried" if carried else "flag_noted"
            replies.append(Reply(self.say(key, names=names, title=top.title, advice=top.advice)))
        return replies

    # ----- results -----------------------------------------------------------------------
    def result(self, result: MatchResult, flag_ids: Iterable[str]) -> list[Reply]:
        """The end of a triage: warning signs first, then the likely problem and what to do."""
        flags = self._by_urgency(flag_ids)
        replies = self._flag_summary(flags, floor=result.urgency)
        if not flags and result.urgency is not Urgency.SELF_CARE:
            advice = self.knowledge.urgency_advice[result.urgency]
            replies.append(Reply(self.say("urgency_line", title=advice.title, advice=advice.advice)))
        if result.condition:
            replies.append(Reply(self._condition_text(result)))
        else:
            replies.append(Reply(self._unclear_text(result)))
        return replies

    def verdict(self, flag_ids: Iterable[str]) -> list[Reply]:
        """The end of a /redflags check."""
        flags = self._by_urgency(flag_ids)
        if not flags:
            advice = self.knowledge.urgency_advice[Urgency.SELF_CARE]
            return [Reply(self.say("verdict_clear", advice=advice.advice))]
        return [*self._flag_summary(flags), Reply(self.say("disclaimer"))]

    def verdict_after_warning(self) -> list[Reply]:
        """The end of a /redflags check whose only warning was just given."""
        return [Reply(self.say("verdict_see_above"))]

    def _flag_summary(self, flags: list[RedFlag], floor: Urgency = Urgency.SELF_CARE) -> list[Reply]:
        if not flags:
            return []
        urgency = max(flags[0].urgency, floor)
        advice = self.knowledge.urgency_advice[urgency]
        signs = _bullets(f"{f.name}: {f.meaning}" for f in flags)
        return [
            Reply(
                self.say("warning_summary", title=advice.title, advice=advice.advice, signs=signs),
                emergency=urgency is Urgency.EMERGENCY,
            )
        ]

    def _condition_text(self, result: MatchResult) -> str:
        condition = self.knowledge.conditions[result.condition or ""]
        reasons = [self.knowledge.concepts[c].label for c in result.evidence]
        parts = [
            self.say("result_likely", name=condition.name, area=condition.area),
            self.say("result_why", reasons="; ".join(reasons)) if reasons else "",
            condition.summary,
            self.say("result_cause", cause=condition.cause.text),
            self.say("result_symptoms", symptoms=condition.symptoms.text),
            self.say("result_treatment", steps=_numbered(t.text for t in condition.treatment)),
            self.say("result_exercises", exercises=self.exercise_list(condition.exercises)),
            self.say(
                "result_return", steps=_bullets(f.text for f in self.knowledge.education.return_to_running)
            ),
            self._runner_up(result),
            self.say("result_seek_help", signs=self._seek_help(condition.see_a_clinician)),
            self.say("disclaimer"),
        ]
        return "\n\n".join(p for p in parts if p)

    def _runner_up(self, result: MatchResult) -> str:
        if len(result.candidates) < 2:
            return ""
        first, second = result.candidates[0], result.candidates[1]
        if second.score < RUNNER_UP_SHARE * first.score:
            return ""
        other = self.knowledge.conditions[second.id]
        return self.say("result_runner_up", name=other.name, symptoms=other.symptoms.text)

    def _seek_help(self, clinician: Fact | None) -> str:
        signs = _bullets(f.text for f in self.knowledge.education.seek_help)
        return f"{clinician.text}\n{signs}" if clinician else signs

    def _unclear_text(self, result: MatchResult) -> str:
        names = [self.knowledge.conditions[c.id] for c in result.candidates[:2]]
        if names:
            options = _bullets(f"{c.name} — {c.symptoms.text}" for c in names)
            return self.say("result_unclear", options=options)
        return self.say("result_none")

    def exercise_list(self, exercises: Iterable[Exercise]) -> str:
        """Exercises as lines: name, dose, and how to do it."""
        lines = []
        for exercise in exercises:
            dose = f" — {exercise.dose}" if exercise.dose else ""
            lines.append(f"• {exercise.name}{dose}. {exercise.cue}")
        return "\n".join(lines)

    # ----- information commands -------------------------------------------------------------
    def prevention(self) -> str:
        """The whole prevention routine, grouped."""
        routine = self.knowledge.prevention
        sections = [self.say("prevent_intro", title=routine.title)]
        for group in routine.groups:
            lines = [group.title.upper()]
            if group.exercises:
                lines.append(self.exercise_list(group.exercises))
            lines.extend(f"• {item.text}" for item in group.items)
            sections.append("\n".join(lines))
        sections.append(self.say("prevent_outro"))
        return "\n\n".join(sections)

    def about(self) -> str:
        """Why the hips and lower back matter, and what this bot is (and is not)."""
        education = self.knowledge.education
        return "\n\n".join(
            [
                education.why_it_matters.text,
                education.closing_thought.text,
                education.about_accuracy.text,
                self.say("disclaimer"),
            ]
        )

    def _by_urgency(self, flags: Iterable[str]) -> list[RedFlag]:
        found = [self.knowledge.red_flags[f] for f in dict.fromkeys(flags) if f in self.knowledge.red_flags]
        return sorted(found, key=lambda f: -f.urgency)


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def _numbered(items: Iterable[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))
