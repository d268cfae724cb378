"""Write docs/metrics.md, the reference of every metric, from the metric registry.

    python scripts/gen_metric_docs.py           # rewrite docs/metrics.md
    python scripts/gen_metric_docs.py --check   # exit 1 when docs/metrics.md is stale

tests/metrics/test_docs.py runs the check, so the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from servicelevel.metrics import Metric, metrics

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "docs" / "metrics.md"

FAMILIES = {
    "efficiency": "Efficiency: volumes, service level, waits, abandonment, handle time",
    "handling": "Handling: response and resolution times, FCR, transfers, escalations",
    "quality": "Quality: surveys and QA reviews",
    "workforce": "Workforce: time in state and schedules",
    "demand": "Cost and demand",
}

INTRO = """\
# Metrics

Generated from the metric registry by `scripts/gen_metric_docs.py`; do not edit by hand.

Every metric is declared once in `src/servicelevel/metrics/`, with the definition below.
A *ratio* keeps its numerator and denominator, so any roll-up (interval → day → month,
agent → team → queue → tenant) adds them up and divides once: percentages are never
averaged. Percent metrics are 0–100; `slm kpi --format csv` shows the numerator and
denominator too. A period with nothing to measure has no value (never 0 % or 100 %); a
count is 0 there. A contact counts in the period it arrived in. Parameters are given as
`--param metric.name=value`.

Kinds: **ratio** (numerator ÷ denominator), **count** (adds up), **maximum** / **minimum**
(rolls up by max / min), **snapshot** (measured at the period's end; a longer period takes
its last part's value). Metrics marked *per period* are computed for each period as a
whole and do not roll up from shorter ones.

## Where servicelevel differs from Wazo (xivo call-logd)

Wazo's queue statistics (peer test suite in `../shared/data/asterisk_queue_log/wazo_fixtures`)
map to these metrics as follows; tests/metrics/test_wazo.py reproduces its worked values.

- `answered_rate` = answered ÷ (answered + abandoned + full + leaveempty + joinempty +
  timeout) is `answered` ÷ `offered` with `overflows=false` (closed and diverted calls
  leave the denominator, as in Wazo): 2 ÷ 25 = 8.0 % in Wazo's example.
- `qos` (quality of service) = answered within the threshold ÷ answered is
  `service_level` with `abandons=answered_only`: 66.67 % for waits 20, 5, 3 s and a 10 s
  threshold. Wazo counts a wait *equal* to the threshold as met, as servicelevel does.
- `average_waiting_time` divides the waits of all calls by answered + abandoned +
  leaveempty + timeout; `awt` divides the waits of answered calls (or, with
  `include_abandoned=true`, of answered and abandoned calls) by those same calls, so
  numerator and denominator always describe the same contacts. For answered calls only
  both give 28 ÷ 3 = 9.33 s (Wazo's API then truncates it to 9).
- Wazo attributes a call to the window in which it *ends*; servicelevel to the period in
  which it *arrived* (a decision of the metric engine: a contact's figures never move
  between periods as it proceeds).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_metric(metric: Metric) -> str:
    lines = [f"### `{metric.key}` — {metric.name}", "", metric.definition, ""]
    facts = [
        f"unit: {metric.unit.value}",
        f"kind: {metric.kind.value}" + ("" if metric.additive else " (per period)"),
        f"better: {metric.direction.value}",
        f"tables: {', '.join(metric.tables)}",
        f"columns: {', '.join(f'`{c}`' for c in metric.columns)}",
    ]
    lines += [" · ".join(facts), ""]
    if metric.parameters:
        lines += ["| parameter | default | meaning |", "|---|---|---|"]
        for p in metric.parameters:
            default = p.default if not isinstance(p.default, bool) else str(p.default).lower()
            meaning = p.description
            if p.choices:
                meaning += f" One of: {', '.join(f'`{c}`' for c in p.choices)}."
            lines.append(f"| `{p.name}` | `{default}` | {_cell(meaning)} |")
        lines.append("")
    if metric.notes:
        lines += [f"Notes: {metric.notes}", ""]
    return "\n".join(lines)


def render() -> str:
    by_family: dict[str, list[Metric]] = {}
    for metric in metrics().values():
        # The family is the module that declares the metric: its prepare step, or its formula.
        declared_by = metric.prepare or metric.formula
        family = declared_by.__module__.rsplit(".", 1)[-1]
        by_family.setdefault(family, []).append(metric)
    parts = [INTRO]
    for family, metrics_of_family in by_family.items():
        parts.append(f"## {FAMILIES.get(family, family.capitalize())}\n")
        parts.extend(render_metric(m) for m in metrics_of_family)
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is stale; run python scripts/gen_metric_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
