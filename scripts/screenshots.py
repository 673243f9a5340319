#!/usr/bin/env python3
"""Regenerate the README's screenshots: one real card, front and back, light and night.

Builds the preview of the bundled deck and photographs one card in headless Chromium at
360 CSS px (a common Android width), 2x pixels so text stays sharp, with the same
Selenium setup as tests/browser.py (Debian's chromium and chromium-driver, nothing
downloaded). The front is the whole card; the back runs from the top to the end of the
revealed section, which is what a reader looks for.

    python scripts/screenshots.py [--note ID] [--card N] [--out docs/img]
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deckgen import load_project  # noqa: E402
from deckgen.preview import write_preview  # noqa: E402
from tests.browser import PHONE, browser_missing, start_chromium, stop_chromium  # noqa: E402

DEFAULT_NOTE = "airflow-catchup-floods-partner-api"
SCALE = 2
MAX_HEIGHT = 1100  # CSS px: a README picture, not a scroll


def capture(driver, selector: str, bottom_selector: str | None = None) -> bytes:
    """PNG of the element ``selector``, cut below ``bottom_selector`` (inside it) if given."""
    box = driver.execute_script(
        """var el = document.querySelector(arguments[0]), r = el.getBoundingClientRect();
           var end = arguments[1] ? el.querySelector(arguments[1]) : null;
           var bottom = end ? end.getBoundingClientRect().bottom + 12 : r.bottom;
           var top = Math.ceil(r.top + scrollY);  /* whole pixels: no sliver of the frame's border */
           return [Math.round(r.left + scrollX), top, Math.floor(r.width), Math.floor(bottom + scrollY - top)];""",
        selector,
        bottom_selector,
    )
    x, y, width, height = box
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": x, "y": y, "width": width, "height": min(height, MAX_HEIGHT), "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", default=DEFAULT_NOTE, help="scenario id (default: %(default)s)")
    parser.add_argument("--card", type=int, default=3, help="card number 1-5 (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        print(f"screenshots: {missing}", file=sys.stderr)
        return 1
    project = load_project(REPO / "scenarios", REPO / "media")
    with tempfile.TemporaryDirectory() as tmp:
        site = write_preview(project, Path(tmp) / "preview").index.parent
        page = site / "notes" / f"{args.note}.html"
        if not page.is_file():
            print(f"screenshots: no note `{args.note}` in the deck", file=sys.stderr)
            return 1
        driver = start_chromium(*PHONE, scale=SCALE)
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            for mode in ("light", "night"):
                driver.get(page.as_uri() + f"?night={int(mode == 'night')}&phone=1")
                card = f"#c{args.card}"
                shots = {
                    "front": capture(driver, f"{card} .pv-front .card"),
                    "back": capture(driver, f"{card} .pv-back .card", ".wte-s:has(.cloze)"),
                }
                for side, png in shots.items():
                    target = args.out / f"card-{side}-{mode}.png"
                    target.write_bytes(png)
                    print(target.relative_to(REPO) if target.is_relative_to(REPO) else target)
        finally:
            stop_chromium(driver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
