"""The preview in a real browser: Debian's headless Chromium at phone size, driven by Selenium.

Layout and colour are what a phone shows, so they are measured where they happen: in a
browser engine, at 360x740 CSS pixels. Nothing is downloaded at run time: the browser and
its driver are Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them),
named by path so Selenium Manager never runs. Without them these tests fail when ``CI`` is
set and skip on a developer's machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deckgen import load_project
from deckgen.preview import write_preview
from tests.browser import PHONE, browser_missing, measure_bullets, resize, start_chromium, stop_chromium
from tests.conftest import REPO, scenario, small_tree

AA = 4.5  # WCAG 2 AA, normal-size text

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="400"><rect width="1600" height="400" fill="#4a90d9"/></svg>'


@pytest.fixture(scope="module")
def browser():
    missing = browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}", pytrace=False)
        pytest.skip(missing)
    driver = start_chromium()
    yield driver
    stop_chromium(driver)


def wide_scenario() -> str:
    """Everything that pushes a phone layout sideways: long URLs, words, tables, code, images."""
    long_url = "https://example.com/" + "/".join(["a-very-long-path-segment"] * 8) + "/index.html"
    text = (
        scenario("wide-content", media="[wide.svg]")
        .replace(
            "why: |\n",
            f"why: |\n  See {long_url}\n\n"
            "  | column one | column two | column three | column four | column five |\n"
            "  |---|---|---|---|---|\n"
            "  | spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes | 256MB | another_long_value | x | y |\n\n"
            "  ```python\n  df = spark.read.parquet('s3://bucket/"
            + "/".join(["year=2024"] * 8)
            + "/part-0.parquet')\n  ```\n\n",
        )
        .replace(
            "    - Roll back the release\n",
            "    - 'Set `spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes` to "
            "[[AVeryLongIdentifierWithoutAnyBreakOpportunityWhatsoever|value]]'\n",
        )
    )
    sql = "SELECT customer_id, SUM(amount) OVER (PARTITION BY customer_id ORDER BY created_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM orders"
    return text + f'code: {{lang: sql, source: "{sql}\\n"}}\n'


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = small_tree(
        tmp_path_factory.mktemp("tree"),
        **{
            "scenarios/streaming-kafka/wide-content.yaml": wide_scenario(),
            "media/wide.svg": SVG,
        },
    )
    return write_preview(load_project(root / "scenarios", root / "media"), root / "preview").index.parent


@pytest.fixture(scope="module")
def bundled_site(tmp_path_factory) -> Path | None:
    if not (REPO / "scenarios" / "deck.yaml").is_file():
        return None
    out = tmp_path_factory.mktemp("bundled")
    return write_preview(load_project(REPO / "scenarios", REPO / "media"), out).index.parent


# One pass over a page: overflow of each card and of the document, the right edge of the
# widest element outside a sideways-scrolling block, and the lowest text contrast per kind
# of text (colours from getComputedStyle, background from the nearest painted ancestor).
MEASURE = r"""
var layout = arguments[0], styles = new Map(), backs = new Map(), boxes = new Map();
function style(el) { if (!styles.has(el)) styles.set(el, getComputedStyle(el)); return styles.get(el); }
function rgba(c) { var p = c.match(/[\d.]+/g).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
function lum(c) { return [0.2126, 0.7152, 0.0722].reduce(function (s, w, i) {
  var v = c[i] / 255; return s + w * (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)); }, 0); }
function over(top, under) { return [0, 1, 2].map(function (i) { return top[i] * top[3] + under[i] * (1 - top[3]); }); }
function background(el) {  // the colour painted behind el: its own over its parent's
  if (!el) return [255, 255, 255];
  if (!backs.has(el)) {
    var c = rgba(style(el).backgroundColor);
    backs.set(el, c[3] >= 1 ? c.slice(0, 3) : over(c, background(el.parentElement)));
  }
  return backs.get(el);
}
function scroller(el, card) {  // the nearest ancestor inside the card that scrolls sideways
  var parent = el.parentElement;
  if (!parent || parent === card) return null;
  if (!boxes.has(parent)) {
    var x = style(parent).overflowX;
    boxes.set(parent, x === "auto" || x === "scroll" ? parent : scroller(parent, card));
  }
  return boxes.get(parent);
}
var out = {viewport: document.documentElement.clientWidth, document: document.documentElement.scrollWidth,
           cards: [], widest: 0, widestWhat: "", contrast: {}, scrollers: []};
document.querySelectorAll(".card").forEach(function (card) {
  out.cards.push([card.scrollWidth, card.clientWidth]);
  if (layout) card.querySelectorAll("*").forEach(function (el) {
    if (!el.getClientRects().length || el.classList.contains("wte")) return;  // .wte is the card's body
    var box = scroller(el, card);
    if (box) { if (["PRE", "TABLE"].indexOf(box.tagName) < 0 && !box.classList.contains("highlight")) out.scrollers.push(box.tagName); return; }
    var right = el.getBoundingClientRect().right;
    if (right > out.widest) { out.widest = right; out.widestWhat = el.tagName.toLowerCase() + "." + el.className; }
  });
  var walk = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
  for (var t = walk.nextNode(); t; t = walk.nextNode()) {
    var el = t.parentElement;
    if (!t.nodeValue.trim() || !el.getClientRects().length || style(el).visibility === "hidden") continue;
    var bg = background(el), fg = over(rgba(style(el).color), bg);
    var a = lum(fg), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    var kind = el.closest(".highlight") ? "code" : el.closest(".cloze") ? "cloze" : "text";
    if (!(kind in out.contrast) || ratio < out.contrast[kind][0])
      out.contrast[kind] = [ratio, el.tagName.toLowerCase() + "." + el.className + " " + JSON.stringify(t.nodeValue.trim().slice(0, 40))];
  }
});
return out;
"""


def _pages(folder: Path) -> list[Path]:
    return sorted((folder / "notes").glob("*.html"))


def _check_page(driver, page: Path) -> dict[str, dict]:
    """Load a note page in light mode, measure, flip the Night switch, measure the colours again."""
    driver.get(page.as_uri() + "?night=0")
    found = {"light": driver.execute_script(MEASURE, True)}
    driver.execute_script("document.querySelector('[data-pv-toggle=\"night\"]').click()")  # the page's own handler
    found["night"] = driver.execute_script(MEASURE, False)  # colours change, layout does not
    assert "nightMode" in driver.find_element("css selector", ".card").get_attribute("class")
    for mode, m in found.items():
        name = f"{page.name} ({mode})"
        assert m["viewport"] == PHONE[0], name
        assert m["document"] <= m["viewport"], f"{name}: the page scrolls sideways ({m['document']} px)"
        for scroll_width, client_width in m["cards"]:
            assert scroll_width <= client_width, f"{name}: a card is {scroll_width} px wide in {client_width} px"
        assert m["widest"] <= m["viewport"] + 0.5, f"{name}: {m['widestWhat']} reaches {m['widest']:.1f} px"
        assert not m["scrollers"], f"{name}: content scrolls sideways inside {m['scrollers']}"
        for kind, (ratio, where) in m["contrast"].items():
            assert ratio >= AA, f"{name}: {kind} contrast {ratio:.2f}:1 at {where}"
    return found


def _summary(results: list[tuple[str, dict[str, dict]]]) -> str:
    """The widest element and the lowest contrast per mode and kind of text, for the record."""
    widest = max((r["light"]["widest"], name, r["light"]["widestWhat"]) for name, r in results)
    lines = [f"widest element right edge: {widest[0]:.1f} px of {PHONE[0]} ({widest[1]}: {widest[2]})"]
    for mode in ("light", "night"):
        for kind in ("text", "cloze", "code"):
            ratios = [(r[mode]["contrast"][kind][0], name) for name, r in results if kind in r[mode]["contrast"]]
            if ratios:
                low = min(ratios)
                lines.append(f"{mode} {kind}: lowest contrast {low[0]:.2f}:1 ({low[1]})")
    return "\n".join(lines)


def test_cards_fit_a_phone_and_meet_contrast_light_and_night(browser, site):
    results = [(page.name, _check_page(browser, page)) for page in _pages(site)]
    assert len(results) == 6
    for mode in ("light", "night"):  # all three kinds of text were measured, none skipped
        assert set().union(*(r[mode]["contrast"] for _, r in results)) == {"text", "cloze", "code"}
    print("\n" + _summary(results))


def test_the_bundled_deck_fits_a_phone_and_meets_contrast(browser, bundled_site):
    if bundled_site is None:
        pytest.skip("no bundled deck")
    results = [(page.name, _check_page(browser, page)) for page in _pages(bundled_site)]
    assert len(results) > 10
    print("\n" + _summary(results))


def test_front_hides_the_cloze_and_back_shows_it(browser, site):
    from selenium.webdriver.common.by import By

    browser.get((site / "notes" / "kafka-lag-after-deploy.html").as_uri())
    front = browser.find_element(By.CSS_SELECTOR, "#c3 .pv-front .card").text
    back = browser.find_element(By.CSS_SELECTOR, "#c3 .pv-back .card").text
    assert "stuck in a [symptom]" in front and "rebalance loop" not in front
    assert "[...]" in front and "Roll back the release" not in front
    assert "rebalance loop" in back and "Roll back the release" in back
    assert "Which bucket?".upper() not in front.upper()  # the front shows only the asked section
    c1_front = browser.find_element(By.CSS_SELECTOR, "#c1 .pv-front .card").text
    assert "[primary bucket] · [also]" in c1_front and "Streaming / Real-Time" not in c1_front
    assert "Streaming / Real-Time" in browser.find_element(By.CSS_SELECTOR, "#c1 .pv-back .card").text


def test_night_switch_marks_cards_as_anki_does_and_phone_switch_narrows(browser, site):
    from selenium.webdriver.common.by import By

    page = (site / "notes" / "gzip-one-task.html").as_uri()
    try:
        resize(browser, 1280, 900, mobile=False)
        browser.get(page + "?night=0&phone=0")
        cards = browser.find_elements(By.CSS_SELECTOR, ".card")
        assert len(cards) == 10 and not any("nightMode" in c.get_attribute("class") for c in cards)
        wide = browser.execute_script("return document.querySelector('.card').clientWidth")
        browser.find_element(By.CSS_SELECTOR, '[data-pv-toggle="night"]').click()
        assert all({"nightMode", "night_mode"} <= set(c.get_attribute("class").split()) for c in cards)
        assert (
            browser.execute_script("return getComputedStyle(document.querySelector('.card')).backgroundColor")
            == "rgb(30, 33, 36)"
        )
        browser.find_element(By.CSS_SELECTOR, '[data-pv-toggle="phone"]').click()
        assert browser.execute_script("return document.querySelector('.card').clientWidth") == PHONE[0] < wide
        browser.get(page)  # both switches are remembered
        assert "nightMode" in browser.find_element(By.CSS_SELECTOR, ".card").get_attribute("class")
        assert browser.execute_script("return document.querySelector('.card').clientWidth") == PHONE[0]
        for toggle in browser.find_elements(By.CSS_SELECTOR, "[data-pv-toggle]"):
            assert toggle.size["height"] >= 44 and toggle.get_attribute("aria-pressed") == "true"
            toggle.click()
    finally:
        resize(browser, *PHONE)


def test_search_box_filters_the_index(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get((site / "index.html").as_uri())

    def shown() -> list[str]:
        return browser.execute_script(
            "return Array.from(document.querySelectorAll('.pv-list li:not([hidden])')).map(li => li.dataset.key)"
        )

    assert len(shown()) == 6
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    box = browser.find_element(By.ID, "pv-q")
    box.send_keys("gzip")
    assert shown() == ["gzip-one-task"]
    assert browser.find_element(By.ID, "pv-count").text == "1 of 6 notes"
    assert not browser.find_element(By.CSS_SELECTOR, '[data-group="streaming-kafka"]').is_displayed()
    box.clear()
    box.send_keys("ROLL back")  # words anywhere in a note, hidden answers included, any case
    assert shown() == ["kafka-lag-after-deploy", "late-events-window", "gzip-one-task"]
    box.clear()
    box.send_keys("no such words")
    assert shown() == [] and browser.find_element(By.ID, "pv-count").text == "0 of 6 notes"
    box.clear()
    box.send_keys(" ")
    Select(browser.find_element(By.ID, "pv-difficulty")).select_by_value("hard")
    assert shown() == ["late-events-window"]
    Select(browser.find_element(By.ID, "pv-difficulty")).select_by_value("")
    Select(browser.find_element(By.ID, "pv-bucket")).select_by_value("batch-spark")
    assert shown() == [
        "bucket--batch-spark",
        "kafka-lag-after-deploy",
        "late-events-window",
        "wide-content",
        "gzip-one-task",
    ]


def test_an_unbroken_long_title_does_not_widen_the_preview(browser, tmp_path):
    title = "A" * 120
    root = small_tree(
        tmp_path,
        **{
            "scenarios/streaming-kafka/long-title.yaml": scenario("long-title").replace(
                "title: Consumer lag explodes after a deploy", f"title: {title}"
            ),
        },
    )
    site = write_preview(load_project(root / "scenarios", root / "media"), root / "preview").index.parent
    for page in (site / "notes" / "long-title.html", site / "index.html"):
        browser.get(page.as_uri())
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0], f"{page.name} is {width} px wide"


# -- Anki's reviewer: "Show Answer" scrolls to #answer ------------------------------------------

# For each card as the anki package renders its back: lay it out, do what Anki's reviewer does
# after "Show Answer" (document.getElementById("answer").scrollIntoView()), and report where
# the asked section's heading and its first revealed cloze end up.
REVIEW = r"""
var cards = arguments[0], out = [];
cards.forEach(function (c) {
  document.body.className = "card card" + c.ord;
  document.body.innerHTML = c.html;
  window.scrollTo(0, 0);
  var anchor = document.getElementById("answer");
  if (anchor) anchor.scrollIntoView();
  var section = document.querySelector(".wte-s" + c.ord), cloze = section && section.querySelector(".cloze");
  var h = section && section.querySelector("h2");
  var atEnd = window.scrollY >= document.documentElement.scrollHeight - window.innerHeight - 1;
  out.push([c.key, c.ord, !!anchor, h ? h.getBoundingClientRect().top : null,
            cloze ? cloze.getBoundingClientRect().top : null, cloze ? cloze.getBoundingClientRect().bottom : null,
            window.innerHeight, atEnd]);
});
return out;
"""


@pytest.fixture(scope="module")
def reviewed_backs(tmp_path_factory):
    """Every card's back as Anki renders it, after importing the bundled deck."""
    from deckgen import BuildOptions, build
    from tests.conftest import import_apkg, new_collection

    folder = tmp_path_factory.mktemp("reviewer")
    project = load_project(REPO / "scenarios", REPO / "media")
    col = new_collection(folder / "anki")
    try:
        import_apkg(col, build(project, BuildOptions(out_dir=folder / "build")).path)
        cards = []
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            cards.append(
                {
                    "key": card.note()["Scenario ID"] if "Scenario ID" in card.note() else card.note()["Bucket"],
                    "ord": card.ord + 1,
                    "html": card.answer(),
                }
            )
    finally:
        col.close()
    return cards


@pytest.mark.parametrize("width,height,mobile", [(360, 740, True), (1100, 850, False)])
def test_show_answer_puts_the_asked_answer_on_screen(browser, reviewed_backs, width, height, mobile):
    try:
        resize(browser, width, height, mobile=mobile)
        browser.get("about:blank")
        rows = browser.execute_script(REVIEW, reviewed_backs)
    finally:
        resize(browser, *PHONE)
    assert len(rows) == 110 * 5 + 11 * 2
    # The asked section's heading opens the screen (unless the card is too short to scroll that
    # far), and its first revealed cloze is in view.
    off = [
        (key, n, heading, top)
        for key, n, anchored, heading, top, bottom, view, at_end in rows
        if not anchored
        or heading is None
        or heading < 0
        or (heading > 40 and not at_end)
        or top is None
        or top < 0
        or bottom > view
    ]
    assert not off, f"{len(off)} cards at {width}x{height} do not open at the asked answer: {off[:5]}"


def test_code_uses_the_width_of_a_wide_window_before_it_scrolls(browser, site):
    """At 1100 px the text column is 42rem; a code block wider than that grows to the window first."""
    try:
        resize(browser, 1100, 850, mobile=False)
        browser.get((site / "notes" / "wide-content.html").as_uri() + "?phone=0")
        # The back of c3 as the whole window, the way Anki's reviewer shows a card.
        browser.execute_script(
            "var html = document.querySelector('#c3 .pv-back .card').innerHTML;"
            "document.body.className = 'card card3'; document.body.innerHTML = html;"
        )
        boxes = browser.execute_script(
            "var out = []; document.querySelectorAll('.wte-extra .highlight').forEach(function (h) {"
            "  var col = h.closest('.wte').getBoundingClientRect(), r = h.getBoundingClientRect();"
            "  out.push([r.width, col.width, h.scrollWidth, h.clientWidth, r.left, r.right]); }); return out;"
        )
    finally:
        resize(browser, *PHONE)
    assert boxes
    for width, column, scroll, client, left, right in boxes:
        assert width > column  # wider than the text column
        assert scroll <= client + 1  # the whole line shows: no sideways scroll
        assert left >= 0 and right <= 1100


def test_every_answer_bullet_of_the_bundled_deck_fits_two_lines_on_a_phone(browser):
    rows = measure_bullets(browser, load_project(REPO / "scenarios", REPO / "media"))
    assert len(rows) > 1000
    over = [r for r in rows if r[3] > 2]
    assert not over, f"{len(over)} bullets take more than two lines at 360 px, e.g. {over[:3]}"


def test_charts_show_the_drawing_of_the_mode_and_fit_a_phone(browser, tmp_path):
    from tests.test_charts import LAG, S

    root = small_tree(tmp_path, **{S: scenario() + LAG})
    site = write_preview(load_project(root / "scenarios", root / "media"), root / "preview").index.parent
    browser.get((site / "notes" / "kafka-lag-after-deploy.html").as_uri() + "?night=0&phone=1")
    shown = (
        "return Array.from(document.querySelectorAll('#c3 .pv-front .wte-chart img')).map(i => [i.className, "
        "getComputedStyle(i).display !== 'none', i.getBoundingClientRect().right, i.naturalWidth > 0])"
    )
    light = browser.execute_script(shown)
    assert [(c, v) for c, v, _, _ in light] == [("wte-chart-light", True), ("wte-chart-night", False)]
    assert all(loaded for *_, loaded in light)  # the drawing is there, from the package's own files
    assert all(right <= PHONE[0] for _, visible, right, _ in light if visible)
    browser.execute_script("document.querySelector('[data-pv-toggle=\"night\"]').click()")
    night = browser.execute_script(shown)
    assert [(c, v) for c, v, _, _ in night] == [("wte-chart-light", False), ("wte-chart-night", True)]
