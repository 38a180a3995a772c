"""Triage: where it hurts, what sets it off, the safety questions, then the likely problem.

Whatever a message already says is not asked again. A correction ("no wait, it's my lower back")
moves the triage to the other region; a second problem ("and my hip too") is queued below this
one and triaged next, without asking the safety questions twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations import clues
from conversations.flows import screen
from conversations.machine import (
    AGE_STEP,
    CONFIRM_STEP,
    DURATION_STEP,
    EMERGENCY_STEP,
    TELL_APART_STEP,
    WARNING_STEP,
)
from conversations.options import option_for_text, options_by_keyword
from conversations.render import ResultContext
from knowledge import MatchResult, Reading, Urgency
from knowledge.intents import Answer
from knowledge.safety import (
    age_band_in,
    age_concerns,
    cancer_concern,
    cancer_history_flag,
    default_safety,
    sign,
)

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.session import Frame, Session
    from conversations.turn import Turn


def age_band(session: Session) -> str | None:
    """The runner's age band, when known (None when not said or skipped)."""
    return session.age if session.age in default_safety().age_bands else None


SKIP_WORDS = frozenset({"skip", "pass", "rather not", "i'd rather not", "prefer not to say", "no thanks"})


class Triage:
    """The triage flow."""

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        """Read a typed message as an answer to the pending triage question."""
        if self.other_region(turn, frame, message) or self.other_side(turn, message):
            return
        if message.intent.correction and clues.correct_location(turn, frame, message.text):
            turn.say("corrected_location")
            turn.ask(reminder=True)
            return
        if frame.step in ("location", "trigger"):
            self.option_answer(turn, frame, message)
        elif frame.step == AGE_STEP:
            self.age_answer(turn, frame, message)
        elif frame.step == TELL_APART_STEP:
            clues.merge(turn, frame, message.reading)
            self.tell_apart_answer(turn, frame, message.answer.value)
        elif frame.step == CONFIRM_STEP and message.answer is Answer.UNSURE:
            self.confirm_doubt(turn, frame)
        elif not screen.on_text(turn, frame, message):
            clues.merge(turn, frame, message.reading)
            turn.advance()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        """A triage button (or its label typed)."""
        triage = turn.knowledge.triage
        if frame.step == "location":
            frame.location = value
            option = triage.locations.get(value)
            if option is not None:
                clues.merge(turn, frame, Reading(frozenset(option.concepts)))
                if not frame.region and value != "down_the_leg":
                    frame.region = next((r.id for r in triage.regions.values() if value in r.locations), "")
            turn.advance()
        elif frame.step == AGE_STEP:
            turn.session.age = value if value in default_safety().age_bands else "skipped"
            turn.advance()
        elif frame.step == TELL_APART_STEP:
            self.tell_apart_answer(turn, frame, value)
        elif frame.step == CONFIRM_STEP and value == "unsure":
            self.confirm_doubt(turn, frame)
        elif frame.step == "trigger":
            option = triage.triggers.get(value)
            if option is not None:
                clues.merge(turn, frame, Reading(frozenset(option.concepts)))
            frame.trigger_done = True
            turn.advance()
        elif not screen.on_choice(turn, frame, value):
            turn.advance()

    def option_answer(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        """A typed answer to "where?" or "what sets it off?"."""
        option = option_for_text(turn, message.text)
        several = options_by_keyword(turn, message.text)
        useful = message.concepts & (turn.engine.in_scope_concepts | turn.engine.trigger_concepts)
        if option is not None and not (useful - set(frame.concepts) and frame.step == "trigger"):
            turn.typed_label = turn.current_options().get(option, "")
            clues.merge(turn, frame, message.reading)
            self.on_choice(turn, frame, option)
        elif len(several) > 1 and not useful - set(frame.concepts):
            self.choose_several(turn, frame, several)  # "sort of the side and the front, both"
        elif useful:
            before = frame.step
            clues.merge(turn, frame, message.reading)
            if frame.step == "trigger" or message.concepts & turn.engine.trigger_concepts:
                frame.trigger_done = True
            turn.advance()
            if frame.step == before:
                turn.replies.insert(-1, turn.render_info("noted_more"))
        elif frame.step == "location" and message.answer is Answer.UNSURE and "location" not in frame.unsure:
            frame.unsure.append("location")  # "not sure": say what is meant, once
            turn.say("explain_location")
            turn.ask()
        elif message.answer in (Answer.NO, Answer.UNSURE) or (frame.step == "trigger" and message.answer is Answer.YES):
            # "not sure" again, "nothing really", "kind of both": not a trap — move on without it
            self.on_choice(turn, frame, "elsewhere" if frame.step == "location" else "none")
        elif message.concepts - screen.NEUTRAL_CONCEPTS:
            clues.merge(turn, frame, message.reading)
            turn.say("noted_more")
            turn.ask()
        else:
            turn.say("unclear_answer", kind="not_understood")
            turn.ask()

    def age_answer(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        """A typed answer to "how old are you?". Anything that is not an age skips the question
        and is read as an answer to the next one ("3 days" is the duration): the age question
        never swallows an answer."""
        session = turn.session
        band = age_band_in(message.text, message.concepts, bare=True)
        safety = default_safety()
        if band is not None or session.age in safety.age_bands:
            session.age = band or session.age  # the safety stage may have read it already
            turn.typed_label = safety.age_bands[session.age]
            turn.advance()
            return
        session.age = "skipped"
        turn.advance()
        turn.typed_label = safety.age_skip  # the age keyboard closes as skipped, whatever comes next
        if turn.session.top is not frame or frame.step == AGE_STEP or message.text.strip().lower() in SKIP_WORDS:
            return
        turn.replies = [r for r in turn.replies if r.kind != "question"]  # answered right here
        if frame.step == DURATION_STEP:  # read again as an answer to "how long?"
            message = turn.engine.reader.read(message.text, turn.today(), asked_how_long=True)
        self.on_text(turn, frame, message)
        turn.typed_label = safety.age_skip

    def confirm_doubt(self, turn: Turn, frame: Frame) -> None:
        """ "Not sure" to "just to check: <a warning sign>?": doubt is never a no — the sign is
        explained and asked again; a second doubt gets the careful advice (urgent for the
        emergency signs), and the conversation carries on where it was."""
        flag = frame.confirm
        asked = f"{CONFIRM_STEP}.{flag}"
        if asked not in frame.unsure:
            frame.unsure.append(asked)
            turn.ask(explain=True)
            return
        emergency = flag == turn.knowledge.triage.screen.emergency
        screen.leave_confirm(frame)
        if flag not in turn.session.doubtful:
            turn.session.doubtful.append(flag)
        screen.give_doubt_advice(turn, EMERGENCY_STEP if emergency else WARNING_STEP, Urgency.URGENT if emergency else Urgency.SOON)
        turn.advance()

    def tell_apart_answer(self, turn: Turn, frame: Frame, answer: str) -> None:
        """The answer to the other problem's own question: a yes adds the clue it confirms, a no
        denies it; anything else leaves both problems as they were (the card then shows both)."""
        other = turn.knowledge.other_conditions.get(frame.values.get("tell_apart_other", ""))
        frame.values["tell_apart"] = answer or "unsure"  # asked once
        if other is not None and answer == "yes":
            clues.merge(turn, frame, Reading(frozenset({other.confirms})))
        elif other is not None and answer == "no":
            clues.merge(turn, frame, Reading(frozenset(), frozenset({other.confirms})))
        turn.advance()

    def choose_several(self, turn: Turn, frame: Frame, options: list[str]) -> None:
        """More than one option in one answer: keep the clues of each, then move on."""
        triage = turn.knowledge.triage
        table = triage.locations if frame.step == "location" else triage.triggers
        for option in options:
            if option in table:
                clues.merge(turn, frame, Reading(frozenset(table[option].concepts)))
        if frame.step == "location":
            frame.location = options[0]
        else:
            frame.trigger_done = True
        turn.advance()

    def other_region(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        """A message about the other region: a correction, or a second problem ("too", "also")."""
        regions = clues.regions_in(turn, message.concepts & turn.engine.where_concepts)
        if not frame.region or len(regions) != 1 or regions[0] == frame.region:
            return False
        new = regions[0]
        if message.intent.also and not message.intent.correction:
            turn.session.stack.insert(-1, clues.frame_for(turn, message, new))
            turn.say("noted_second", region=turn.region_name(new))
            turn.ask(reminder=True)
            return True
        old_anchors = turn.engine.region_concepts[frame.region]
        frame.concepts = [c for c in frame.concepts if c not in old_anchors]
        frame.region, frame.location, frame.trigger_done = new, "", False
        clues.merge(turn, frame, message.reading)
        turn.say("corrected_region", region=turn.region_name(new))
        turn.advance()
        return True

    def other_side(self, turn: Turn, message: MessageReading) -> bool:
        """ "It's the left side actually": noted, and the question stands."""
        intent = message.intent
        if not intent.side or not (intent.correction or not message.concepts) or message.answer is not Answer.NONE:
            return False
        if message.concepts - screen.NEUTRAL_CONCEPTS:
            return False
        turn.say("corrected_side")
        turn.ask(reminder=True)
        return True

    def finish(self, turn: Turn, frame: Frame) -> None:
        """The result: the likely problem, the one urgency that applies, what to do now.

        A triage in which the runner described another problem (piriformis, a hamstring
        tendon ...) ends in a referral instead: the six conditions are not guessed at.
        """
        session = turn.session
        knowledge = turn.knowledge
        result = turn.engine.matcher.assess(Reading(frozenset(frame.concepts), frozenset(frame.negated)))
        if frame.referred and result.other is None and not self.both_kept(result):
            turn.replies = [r for r in turn.replies if r.kind != "warning"]
            names = [knowledge.other_conditions[o].name for o in frame.referred]
            turn.replies.append(turn.render.referral(names, turn.said()))
            turn.pop()
            return
        flags = list(dict.fromkeys([*session.flags, *result.red_flags]))
        told = {*frame.concepts, *(c for f in flags for c in knowledge.red_flags[f].detect)}  # a ticked limp too
        age_rules = age_concerns(age_band(session), frame.region or None, told)
        rule_concerns = [r.concern for r in default_safety().age_rules if r.id in age_rules]
        cancer = cancer_concern(frame.concepts, frame.region or None, flags)
        if cancer is not None:  # cancer history said before the region was known
            rule_concerns.append(cancer_history_flag().id)
        concerns = list(dict.fromkeys([*session.concerns, *result.concerns, *rule_concerns]))
        said = turn.said_before  # what earlier turns said; this turn's warnings are folded into the card
        signs = [s for s in (sign(knowledge, i) for i in (*flags, *concerns)) if s is not None]
        urgency = max(
            result.urgency,
            *(s.urgency for s in signs),
            turn.said() or Urgency.SELF_CARE,
            self.doubt_urgency(turn),
            self.other_urgency(turn, result),
        )
        floor_reason = ""
        if result.condition and knowledge.conditions[result.condition].urgency_floor == urgency:
            floor_reason = knowledge.conditions[result.condition].name
        # the result restates every warning, so this turn's separate warnings are not repeated
        turn.replies = [r for r in turn.replies if r.kind != "warning"]
        if cancer is Urgency.EMERGENCY:
            urgency = Urgency.EMERGENCY
        if urgency is Urgency.EMERGENCY:  # never a self-care card under an emergency
            ids = [f for f in flags if knowledge.red_flags[f].urgency is Urgency.EMERGENCY]
            if cancer is Urgency.EMERGENCY and not ids:
                turn.emergency([*flags, cancer_history_flag().id])
                return
            if not turn.raise_flags(ids):
                turn.emergency(ids)
            return
        session.concerns = list(dict.fromkeys([*session.concerns, *rule_concerns]))
        context = ResultContext(
            urgency, flags, said, floor_reason, frame.duration == "unknown", concerns, age_rules=age_rules
        )
        if result.other is not None:  # another problem fits better: its own card, none of the six
            turn.replies.append(turn.render.other_result(result, context, frame.region))
        elif self.both_kept(result):
            turn.replies.append(turn.render.both_result(result, context, frame.region))
        else:
            turn.replies.append(turn.render.result(result, context))
        turn.note_said(urgency)
        session.last_condition = result.condition or session.last_condition
        turn.pop()

    @staticmethod
    def both_kept(result: MatchResult) -> bool:
        """One of the six and another problem both fit, and the clues cannot tell them apart."""
        return result.condition is None and result.other is None and bool(result.other_candidates and result.candidates)

    def other_urgency(self, turn: Turn, result: MatchResult) -> Urgency:
        """How soon the problem outside the six (named, or kept beside one of the six) needs seeing."""
        other = result.other or (result.other_candidates[0].id if self.both_kept(result) else None)
        return turn.knowledge.other_conditions[other].see if other else Urgency.SELF_CARE

    def doubt_urgency(self, turn: Turn) -> Urgency:
        """The urgency the runner's doubts call for (they could not rule a sign out)."""
        doubtful = turn.session.doubtful
        if turn.knowledge.triage.screen.emergency in doubtful:
            return Urgency.URGENT
        return Urgency.SOON if doubtful else Urgency.SELF_CARE
