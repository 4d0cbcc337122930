"""A whole program year of N bases under the time-skipping server, with the time printed, and
every grade recomputed from its decision record.

    python -m bench.year_virtual --bases 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from services.sim.virtual import run_virtual_year
from shared.domain.rules import load_rules_file
from shared.logging import configure_logging
from shared.settings import DEPLOY_DIR


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bases", type=int, default=1000)
    parser.add_argument(
        "--program",
        default="henan-nav-base",
        help="a preset in deploy/programs; its real calendar (months) passes in virtual time",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    args = parser.parse_args()
    rules = load_rules_file(DEPLOY_DIR / "programs" / f"{args.program}.yaml")
    configure_logging("console", "WARNING")

    def progress(phase: str, done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            print(
                f"\r  {phase:<15} {done:>6}/{total}",
                end="\n" if done == total else "",
                file=sys.stderr,
            )

    summary = asyncio.run(run_virtual_year(rules, bases=args.bases, progress=progress))
    result = summary.as_json()
    print(
        f"virtual year: {summary.bases} bases, {summary.virtual_days:.1f} virtual days "
        f"in {summary.elapsed_s:.1f} s real ({summary.updates} human inputs)"
    )
    print(f"  grades:   {dict(summary.grades)}")
    print(f"  outcomes: {dict(summary.outcomes)}")
    print(
        f"  recomputed {summary.recomputed} grades from their decision records: "
        f"{len(summary.recompute_mismatches)} mismatches"
    )
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing["year_virtual"] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(existing, ensure_ascii=False, indent=2))
    return 1 if summary.recompute_mismatches or summary.outcomes.total() != summary.bases else 0


if __name__ == "__main__":
    sys.exit(main())
