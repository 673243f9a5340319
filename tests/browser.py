"""Headless Chromium for tests and scripts: Debian's browser and driver, nothing downloaded.

The browser tests, ``scripts/screenshots.py`` and ``scripts/measure_bullets.py`` share
this: a fresh profile per start, no background networking, and a phone screen emulated
with CDP (headless Chromium will not lay out a window narrower than 500 px).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("DECKGEN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DECKGEN_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (360, 740)


def start_chromium(width: int = PHONE[0], height: int = PHONE[1], scale: float = 1):
    """Headless Chromium with a fresh profile, emulating a phone screen of ``width`` CSS px."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="deckgen-chromium-")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.profile_dir = profile
    resize(driver, width, height, scale)
    return driver


def resize(driver, width: int, height: int, scale: float = 1, mobile: bool = True) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
    )


def stop_chromium(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


# -- answer bullets, line by line ------------------------------------------------------------

# Each answer bullet as the back of its own card shows it (the revealed phrase in bold), in
# a 360 px wide card with the note type's CSS: how many lines does it take?
_LINES = r"""
var out = [];
document.querySelectorAll("[data-bullets]").forEach(function (card) {
  var n = card.dataset.section;
  card.querySelectorAll(".wte-s.wte-s" + n + " li").forEach(function (li, i) {
    var lh = parseFloat(getComputedStyle(li).lineHeight);
    out.push([card.dataset.bullets, Number(n), i, Math.round(li.getBoundingClientRect().height / lh),
              li.innerText.replace(/\s+/g, " ").trim()]);
  });
});
return out;
"""


def bullet_page(project, options=None) -> str:
    """One page holding the back of every c3-c5 card of a build (the notes only: no chart is drawn)."""
    from deckgen import builder, notes
    from deckgen.preview import render_cards

    model = notes.scenario_model()
    by_guid = {notes.note_guid(project.deck.slug, s.id): s for s in project.scenarios}
    cards = []
    for spec in builder.specs(project, options or builder.BuildOptions()):
        if spec.model != "scenario":
            continue
        s = by_guid[spec.guid]
        for card in render_cards(model, spec.fields):
            if card.ordinal >= 3:
                cards.append(
                    f'<div class="card card{card.ordinal}" data-bullets="{s.id}" data-section="{card.ordinal}">'
                    f"{card.answer}</div>"
                )
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<style>{model.css}</style></head><body style="margin:0">{"".join(cards)}</body></html>'
    )
    return page


def measure_bullets(driver, project, options=None) -> list[tuple[str, str, int, int, str]]:
    """(scenario id, section, bullet index, lines at the driver's width, visible text), worst first."""
    from deckgen import manifest

    page = bullet_page(project, options)
    with tempfile.TemporaryDirectory(prefix="deckgen-bullets-") as tmp:
        path = Path(tmp) / "bullets.html"
        path.write_text(page, encoding="utf-8")
        driver.get(path.as_uri())
        rows = driver.execute_script(_LINES)
    found = [(sid, manifest.SCENARIO_SECTIONS[n], i, lines, text) for sid, n, i, lines, text in rows]
    return sorted(found, key=lambda r: (-r[3], r[0], r[1], r[2]))
