#!/usr/bin/env python3
"""How many lines each answer bullet takes on a 360 px phone, measured in a browser engine.

Renders the back of every c3-c5 card (the revealed phrase in bold, the note type's own
CSS) in headless Chromium emulating a 360x740 screen, counts each bullet's lines, and
prints the distribution and the worst bullets first. The content standard allows two.

    python scripts/measure_bullets.py [--scenarios DIR] [--category SLUG] [--worst N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deckgen import BuildOptions, load_project  # noqa: E402
from tests.browser import PHONE, browser_missing, measure_bullets, start_chromium, stop_chromium  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=Path, default=REPO / "scenarios")
    parser.add_argument("--media", type=Path, default=REPO / "media")
    parser.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    parser.add_argument("--worst", type=int, default=20, help="how many of the longest bullets to list")
    parser.add_argument("--json", action="store_true", help="every bullet as JSON, worst first")
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        print(f"measure_bullets: {missing}", file=sys.stderr)
        return 1
    project = load_project(args.scenarios, args.media)
    driver = start_chromium(*PHONE)
    try:
        rows = measure_bullets(driver, project, BuildOptions(categories=tuple(args.category)))
    finally:
        stop_chromium(driver)
    if args.json:
        keys = ("id", "section", "index", "lines", "text")
        print(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], indent=1, ensure_ascii=False))
        return 0
    counts = Counter(r[3] for r in rows)
    print(f"{len(rows)} answer bullets at {PHONE[0]} px:")
    for lines in sorted(counts):
        print(f"  {lines} line{'s' * (lines != 1)}: {counts[lines]:5d}  ({100 * counts[lines] / len(rows):.1f}%)")
    over = [r for r in rows if r[3] > 2]
    print(f"over two lines: {len(over)}")
    for sid, section, i, lines, text in rows[: args.worst]:
        if lines <= 2:
            break
        print(f"  {lines}  {sid} {section}[{i + 1}]: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
