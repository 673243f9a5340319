#!/usr/bin/env python3
"""Time from saving a scenario to the reloaded page in the browser, with `deckgen preview --watch`.

Copies the bundled deck to a temporary folder, serves it with the watcher, opens one note's
page in headless Chromium (tests/browser.py), then saves an edit to that scenario's title and
waits until the page shows it, five times. Prints each time and the median.

    python bench/watch_reload.py [--scenario ID] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deckgen import watch  # noqa: E402
from tests.browser import browser_missing, start_chromium, stop_chromium  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="consumer-lag-alert-silent-when-group-empty")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if browser_missing():
        print(f"watch_reload: {browser_missing()}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "scenarios", root / "scenarios")
        (root / "media").mkdir()
        source = next((root / "scenarios").glob(f"*/{args.scenario}.yaml"))
        stop, ready = threading.Event(), []
        thread = threading.Thread(
            target=watch.serve,
            args=(root / "scenarios", root / "media", root / "cache", 0),
            kwargs={"stop": stop, "on_ready": ready.append, "log": lambda _: None},
            daemon=True,
        )
        thread.start()
        while not ready:
            time.sleep(0.05)
        driver = start_chromium()
        times = []
        try:
            driver.get(f"{ready[0]}notes/{args.scenario}.html")
            text = source.read_text("utf-8")
            title = next(line for line in text.splitlines() if line.startswith("title: "))
            for run in range(args.runs):
                marker = f"Edited for the reload test {run}"
                time.sleep(0.5)  # the page is settled and waiting
                started = time.perf_counter()
                source.write_text(text.replace(title, f"title: {marker}", 1), "utf-8")
                while marker not in driver.execute_script("return document.querySelector('h1').textContent"):
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
                print(f"run {run + 1}: {times[-1]:.3f} s from save to the reloaded page")
        finally:
            stop_chromium(driver)
            stop.set()
            thread.join(timeout=10)
    print(f"median {statistics.median(times):.3f} s over {len(times)} saves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
