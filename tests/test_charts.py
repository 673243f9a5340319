"""charts.py: a spec in the YAML, a drawing in the package, shown on the right side in real Anki."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen import BuildOptions, build, charts, load_project
from deckgen.cli import main
from deckgen.model import svg_problem
from tests.conftest import REPO, import_apkg, scenario, small_tree, snapshot

S = "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml"

LAG = """\
chart:
  kind: line
  title: Consumer lag, orders group
  alt: Lag is flat near 1k until the 14:05 release, then passes 2M by 14:25.
  x: {label: Time (UTC), values: ['13:55', '14:00', '14:05', '14:10', '14:15', '14:20', '14:25']}
  y: {label: Lag, unit: messages}
  series:
    - {name: orders, values: [950, 1000, 1200, 300000, 900000, 1500000, 2100000]}
  annotations:
    - {x: '14:05', label: release 14:05}
    - {y: 500000, label: alert 500k}
"""

DURATIONS = """\
  - kind: histogram
    side: back
    title: Task durations, stage 4
    alt: 199 tasks finish within 2 minutes; one task runs for 41 minutes.
    x: {label: Duration, unit: min}
    series:
      - {name: tasks, values: [1.1, 1.3, 1.2, 1.9, 1.4, 41]}
    bin: 2
"""


def with_charts(*charts_yaml: str) -> str:
    body = "".join(charts_yaml)
    return scenario() + (body if body.startswith("chart:") else "chart:\n" + body)


def _build(root: Path, **opts) -> Path:
    project = load_project(root / "scenarios", root / "media")
    return build(project, BuildOptions(out_dir=root / "build", **opts)).path


def test_a_front_chart_and_a_back_chart_reach_anki(tmp_path, collection):
    both = with_charts("  - " + LAG.split("chart:\n  ", 1)[1].replace("\n  ", "\n    "), DURATIONS)
    small_tree(tmp_path, **{S: both})
    apkg = _build(tmp_path)
    import_apkg(collection, apkg)
    note = collection.get_note(collection.find_notes('"Scenario ID:kafka-lag-after-deploy"')[0])
    project = load_project(tmp_path / "scenarios", tmp_path / "media")
    front_chart, back_chart = next(s for s in project.scenarios if s.id == "kafka-lag-after-deploy").charts
    media = Path(collection.media.dir())
    for name in (*front_chart.names(), *back_chart.names()):
        assert (media / name).read_bytes().startswith(b"<svg")
    check = collection.media.check()
    assert not check.missing and not check.unused
    for card in note.cards():
        q, a = card.question(), card.answer()
        assert all(f'src="{n}"' in q and f'src="{n}"' in a for n in front_chart.names())  # evidence: every front
        assert not any(n in q for n in back_chart.names())  # explanation: the back only
        assert all(f'src="{n}"' in a for n in back_chart.names())
        assert "Lag is flat near 1k until the 14:05 release" in re.sub(r"<[^>]+>", "", q)  # the caption
        assert not re.search(r"https?://(?!www\.w3\.org/)", q + a)


def test_drawings_load_nothing_and_are_the_same_every_time(tmp_path):
    small_tree(tmp_path, **{S: with_charts(LAG)})
    first = _build(tmp_path).read_bytes()
    second = _build(tmp_path).read_bytes()
    assert first == second
    chart = next(s for s in load_project(tmp_path / "scenarios", tmp_path / "media").scenarios if s.charts).charts[0]
    for svg in (charts.draw(chart), charts.night(charts.draw(chart))):
        assert svg_problem(svg.encode()) is None  # no script, handler or outside reference
        assert not re.search(r"\b(href|src)=|url\(|@import|<image\b", svg)
        assert not re.search(r"https?://(?!www\.w3\.org/)", svg)


def test_a_warm_build_never_starts_the_chart_engine(tmp_path, monkeypatch):
    small_tree(tmp_path, **{S: with_charts(LAG)})
    cache = tmp_path / "build" / ".cache"
    build(
        load_project(tmp_path / "scenarios", tmp_path / "media", cache_dir=cache),
        BuildOptions(out_dir=tmp_path / "build"),
    )
    assert charts.DRAWN[-1] == 1  # the cold build drew its chart
    monkeypatch.setattr(charts, "draw", lambda chart: pytest.fail("a warm build started the chart engine"))
    warm = build(
        load_project(tmp_path / "scenarios", tmp_path / "media", cache_dir=cache),
        BuildOptions(out_dir=tmp_path / "build"),
    ).path.read_bytes()
    assert charts.DRAWN[-1] == 0
    monkeypatch.undo()
    cold = build(load_project(tmp_path / "scenarios", tmp_path / "media"), BuildOptions(out_dir=tmp_path / "cold"))
    assert warm == cold.path.read_bytes()


def test_night_swaps_every_colour_of_the_palette():
    chart = charts.from_data(
        {
            "kind": "bars",
            "title": "Cost per day",
            "alt": "Compute doubles on the 3rd.",
            "x": {"values": ["1 Nov", "2 Nov", "3 Nov"]},
            "series": [{"name": "compute", "values": [400, 410, 820]}, {"name": "storage", "values": [90, 90, 95]}],
            "annotations": [{"x": "3 Nov", "label": "new cluster"}],
        }
    )
    svg = charts.draw(chart)
    dark = charts.night(svg)
    light_colours = {charts.LIGHT[k] for k in ("text", "grid", "axis", "note")} | set(charts.LIGHT["series"][:2])
    assert light_colours <= set(re.findall(r"#[0-9a-f]{6}", svg))
    assert not light_colours & set(re.findall(r"#[0-9a-f]{6}", dark))


def _contrast(fg: str, bg: str) -> float:
    def lum(h: str) -> float:
        rgb = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = lum(fg), lum(bg)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("palette,background", [(charts.LIGHT, "#ffffff"), (charts.NIGHT, "#1e2124")])
def test_axis_labels_and_annotations_meet_wcag_aa_on_the_card(palette, background):
    assert _contrast(palette["text"], background) >= 4.5
    assert _contrast(palette["note"], background) >= 4.5


# (case, the chart YAML, the line validate prints)
BAD = [
    (
        "unknown kind",
        LAG.replace("kind: line", "kind: pie"),
        f"{S}:27: chart.kind: 'pie' is not one of line | area | bars | histogram",
    ),
    (
        "mismatched lengths",
        LAG.replace("[950, 1000, 1200,", "[1000, 1200,"),
        f"{S}:33: chart.series[1].values: has 6 values for 7 x values: one value per x",
    ),
    (
        "too many points",
        LAG.replace("values: ['13:55',", "values: [" + "'x', " * 120 + "'13:55',"),
        f"{S}:30: chart.x.values: has 127 items; at most 120 allowed",
    ),
    (
        "a URL data source",
        LAG.replace("  kind: line\n", "  kind: line\n  data: {url: 'https://evil.example/d.json'}\n"),
        f"{S}:28: chart.data: unknown key `data`: known keys: alt, annotations, bin, kind, series, side, title, x, y",
    ),
    (
        "a rule off the axis",
        LAG.replace("{x: '14:05', label", "{x: '14:07', label"),
        f"{S}:35: chart.annotations[1].x: `14:07` is not one of x.values: put the rule at a value the chart has",
    ),
    ("not a number", LAG.replace("2100000]", ".inf]"), f"{S}:33: chart.series[1].values[7]: is not a finite number"),
    (
        "no alt",
        LAG.replace("  alt: Lag is flat near 1k until the 14:05 release, then passes 2M by 14:25.\n", ""),
        f"{S}:27: chart: missing required key `alt`",
    ),
]


@pytest.mark.parametrize("text,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_charts_are_refused_with_their_line(tmp_path, monkeypatch, text, expected):
    small_tree(tmp_path, **{S: scenario() + text})
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path / "build")
    for args in (["validate"], ["build"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert expected in result.output.splitlines(), result.output
    assert snapshot(tmp_path / "build") == before


def test_the_preview_shows_the_charts(tmp_path):
    from deckgen.preview import write_preview

    small_tree(tmp_path, **{S: with_charts(LAG)})
    project = load_project(tmp_path / "scenarios", tmp_path / "media")
    site = write_preview(project, tmp_path / "site").index.parent
    light, dark = next(s for s in project.scenarios if s.charts).charts[0].names()
    assert (site / "notes" / light).read_bytes().startswith(b"<svg")
    assert (site / "notes" / dark).read_bytes().startswith(b"<svg")
    page = (site / "notes" / "kafka-lag-after-deploy.html").read_text()
    assert page.count(f'src="{light}"') == 10  # every card, front and back


def test_the_readme_example_works_as_pasted(tmp_path):
    """An author adds a chart from the README's example alone: pasted under a scenario, it builds."""
    readme = (REPO / "README.md").read_text("utf-8")
    example = re.search(r"### Charts\n.*?```yaml\n(chart:\n.*?)```", readme, re.S).group(1)
    small_tree(tmp_path, **{S: scenario() + example})
    project = load_project(tmp_path / "scenarios", tmp_path / "media")
    (chart,) = next(s for s in project.scenarios if s.id == "kafka-lag-after-deploy").charts
    assert (chart.kind, chart.side, len(chart.annotations)) == ("line", "front", 2)
    with zipfile.ZipFile(_build(tmp_path)) as z:
        assert set(chart.names()) <= set(json.loads(z.read("media")).values())
