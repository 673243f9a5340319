#!/usr/bin/env python3
"""Photograph a deck in the real Anki desktop app: a card's back after "Show Answer", or the overview.

Anki's own reviewer (QtWebEngine) does what no emulation can promise: it scrolls the back to
id="answer", applies its own CSS, and shows the deck description its own way. This starts
Anki desktop (``pip install "aqt[qt6]"``, in a virtual environment of its own) with a fresh
profile in a temporary folder, imports the package with a small add-on, opens the card in
the reviewer, shows the answer like a user would, and saves what the window shows. Run it on
a virtual display:

    xvfb-run -a -s '-screen 0 1280x1024x24' ANKI_PYTHON scripts/reviewer_screenshot.py \\
        build/when-theory-ends-v1.1.0.apkg out.png --card consumer-lag-alert-silent-when-group-empty 5

    ... scripts/reviewer_screenshot.py PACKAGE out.png --overview [--size 400x800] [--night]
    ... scripts/reviewer_screenshot.py PACKAGE out.png --card ID N --front   (the question)

Nothing is downloaded; the profile and its collection are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ADDON = """
from aqt import mw, gui_hooks
from aqt.qt import QTimer
from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

ARGS = {args}


def save():
    mw.web.grab().save(ARGS["out"])
    QTimer.singleShot(300, mw.close)


def start():
    mw.col.import_anki_package(ImportAnkiPackageRequest(package_path=ARGS["apkg"],
        options=ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False)))
    mw.resize(*ARGS["size"])
    if ARGS["card"] is None:
        root = min(mw.col.decks.all_names_and_ids(skip_empty_default=True), key=lambda d: len(d.name))
        mw.col.decks.select(root.id)
        mw.moveToState("overview")
        QTimer.singleShot(2500, save)
        return
    sid, ordinal = ARGS["card"]
    nid = mw.col.find_notes(f'"Scenario ID:{{sid}}"')[0]
    card = next(c for c in mw.col.get_note(nid).cards() if c.ord == ordinal - 1)
    mw.col.decks.select(card.did)
    mw.moveToState("review")

    def question():
        mw.reviewer.card = card
        card.start_timer()
        mw.reviewer._showQuestion()
        QTimer.singleShot(2000, save if ARGS["front"] else answer)

    def answer():
        mw.reviewer._showAnswer()  # what "Show Answer" does: render the back, scroll to #answer
        QTimer.singleShot(2500, save)

    QTimer.singleShot(1500, question)


gui_hooks.profile_did_open.append(lambda: QTimer.singleShot(500, start))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apkg", type=Path)
    parser.add_argument("out", type=Path)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--card", nargs=2, metavar=("SCENARIO_ID", "N"), help="the back of card cN of a scenario")
    what.add_argument("--overview", action="store_true", help="the deck's overview screen")
    parser.add_argument("--size", default="400x800", help="window size WxH (default %(default)s)")
    parser.add_argument("--night", action="store_true", help="Anki's dark theme")
    parser.add_argument("--front", action="store_true", help="with --card: the question, before Show Answer")
    args = parser.parse_args()
    try:
        from aqt.profiles import ProfileManager
    except ImportError:
        print('reviewer_screenshot: needs Anki desktop: pip install "aqt[qt6]"', file=sys.stderr)
        return 1
    width, height = (int(x) for x in args.size.lower().split("x"))
    base = Path(tempfile.mkdtemp(prefix="deckgen-anki-"))
    try:
        addon = base / "addons21" / "deckgen_screenshot"
        addon.mkdir(parents=True)
        settings = {
            "apkg": str(args.apkg.resolve()),
            "out": str(args.out.resolve()),
            "size": [width, height],
            "card": [args.card[0], int(args.card[1])] if args.card else None,
            "front": args.front,
        }
        (addon / "__init__.py").write_text(ADDON.format(args=repr(settings)), encoding="utf-8")
        pm = ProfileManager(base)  # a profile that skips the first-run language dialog
        pm.setupMeta()
        pm.create("User 1")
        pm.meta["firstRun"] = False
        pm.load("User 1")
        if args.night:
            from aqt.theme import Theme

            pm.set_theme(Theme.DARK)
        pm.save()
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        import aqt

        sys.argv = ["anki", "-b", str(base), "-p", "User 1", "-l", "en"]
        aqt.run()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if not args.out.is_file():
        print("reviewer_screenshot: Anki closed before the picture was taken", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
