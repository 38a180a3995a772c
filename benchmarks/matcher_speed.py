"""How long the matcher takes per message, including a cold start.

python -m benchmarks.matcher_speed [--rounds N]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import describe_timings, labelled_messages, machine, print_table, time_each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    from knowledge import Matcher, load_knowledge

    matcher = Matcher(load_knowledge())
    start_up = time.perf_counter() - started
    name, rows = labelled_messages()
    messages = [r["text"] for r in rows]
    long_messages = [m * (4096 // max(1, len(m)) + 1) for m in messages[:10]]

    print(f"machine: {machine()}; messages: {name} ({len(messages)})")
    print(f"start-up (load + validate + index): {start_up * 1000:.1f} ms\n")
    table = []
    for label, batch in (("labelled messages", messages), ("4,096+ characters", long_messages)):
        figures = describe_timings(time_each(matcher.match, batch, args.rounds))
        table.append(
            [label, f"{figures['mean_ms']:.3f}", f"{figures['p50_ms']:.3f}", f"{figures['p99_ms']:.3f}"]
        )
    from knowledge.questions import QuestionReader

    reader = QuestionReader(matcher.knowledge, matcher)
    questions, _ = _questions()
    for label, batch in (
        ("question reading: labelled", messages),
        ("question reading: questions", questions),
    ):
        figures = describe_timings(time_each(reader.read, batch, args.rounds))
        table.append(
            [label, f"{figures['mean_ms']:.3f}", f"{figures['p50_ms']:.3f}", f"{figures['p99_ms']:.3f}"]
        )
    print_table(["messages", "mean ms", "p50 ms", "p99 ms"], table)


def _questions() -> tuple[list[str], str]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], path.name


if __name__ == "__main__":
    main()
