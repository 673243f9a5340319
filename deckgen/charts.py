"""Incident charts: a small declarative spec in the scenario, drawn as SVG at build time.

On call you look before you read: the lag line that turns up at the deploy, the cost that
doubles on the 3rd. A scenario's ``chart`` (one, or a list of up to three) is a line, area,
grouped-bar or histogram spec with inline data, axis labels, annotations ("deploy 14:05",
"SLO 5 min"), a side (front: evidence; back: explanation) and a text alternative.

Vega-Lite, through ``vl-convert-python``, draws it: a well-kept grammar of graphics that
renders offline in an embedded engine, gives the same bytes for the same spec, and is told
to load nothing (``allowed_base_urls=[]``; the specs it sees are built here, from validated
numbers and text only, never passed through from a file). Each chart is drawn once, in the
light palette; the night variant swaps the palette's exact colours, so the two always match.
Both are media files of the package, named by a hash of what shaped them; a card shows the
one for its mode. Nothing here runs unless a chart has to be drawn: warm builds take the SVG
from the render cache and never start the engine.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_POINTS = 120  # the other bounds (kinds, series, raw values) are in scenario.schema.json
# The plot area; the axes add about 60 px on the left and 40 below, so a drawing is about
# 330 px wide, shown in a phone's column without shrinking its 12 px text. ("pad" sizing: "fit"
# would lay each chart out twice, a third of its drawing time.)
WIDTH, HEIGHT = 264, 150

# The card's palette (style.css), light and night: text, grid, axis, series, annotations.
LIGHT: dict[str, Any] = {
    "text": "#4a5560",
    "grid": "#dde3e9",
    "axis": "#8793a0",
    "note": "#b42318",
    "series": ("#0a58ca", "#c2410c", "#15803d", "#7e22ce"),
}
NIGHT: dict[str, Any] = {
    "text": "#b8c2cc",
    "grid": "#3a4148",
    "axis": "#7d8893",
    "note": "#ff8a80",
    "series": ("#8ab4ff", "#fdba74", "#86efac", "#d8b4fe"),
}
PALETTE_VERSION = "3"  # bump when the palette or the spec builder changes what is drawn


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Annotation:
    label: str
    x: str | float | None = None  # a vertical rule at this x
    y: float | None = None  # a horizontal rule at this y


@dataclass(frozen=True)
class Chart:
    kind: str
    title: str
    alt: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    x_values: tuple[str | float, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    side: str = "front"
    bin: float | None = None  # histogram bin width

    def canonical(self) -> str:
        """Everything that shapes the drawing, as stable JSON."""
        return json.dumps(
            {
                "kind": self.kind,
                "title": self.title,
                "x": [self.x_label, list(self.x_values)],
                "y": self.y_label,
                "series": [[s.name, list(s.values)] for s in self.series],
                "notes": [[a.label, a.x, a.y] for a in self.annotations],
                "bin": self.bin,
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    def digest(self) -> str:
        return hashlib.sha256(f"{renderer_version()}\x1f{PALETTE_VERSION}\x1f{self.canonical()}".encode()).hexdigest()

    def names(self) -> tuple[str, str]:
        """The two media files: light and night."""
        h = self.digest()[:16]
        return f"wte-chart-{h}-light.svg", f"wte-chart-{h}-night.svg"


def _label(text: str, unit: str | None) -> str:
    return f"{text} ({unit})" if unit else text


def from_data(data: dict) -> Chart:
    """A validated ``chart`` mapping (the schema and :func:`problems` have checked it) to a Chart."""
    x, y = data.get("x") or {}, data.get("y") or {}
    return Chart(
        kind=data["kind"],
        title=data["title"],
        alt=data["alt"],
        x_label=_label(x.get("label", ""), x.get("unit")),
        y_label=_label(y.get("label", "Count" if data["kind"] == "histogram" else ""), y.get("unit")),
        series=tuple(Series(s["name"], tuple(float(v) for v in s["values"])) for s in data["series"]),
        x_values=tuple(x.get("values") or ()),
        annotations=tuple(Annotation(a["label"], a.get("x"), a.get("y")) for a in data.get("annotations") or ()),
        side=data.get("side", "front"),
        bin=float(data["bin"]) if data.get("bin") is not None else None,
    )


def problems(data: dict) -> list[tuple[tuple, str]]:
    """What the JSON Schema cannot say about a chart: lengths that must agree, numbers that must be finite."""
    out: list[tuple[tuple, str]] = []
    kind = data.get("kind")
    xs = (data.get("x") or {}).get("values") or []
    series = data.get("series") or []
    if kind == "histogram":
        if xs:
            out.append((("x", "values"), "a histogram takes raw values in its series, not x values: remove x.values"))
    elif len(xs) < 2:
        out.append((("x",), f"a {kind} chart needs x.values (2 to {MAX_POINTS}): the times, dates or categories"))
    names = [s.get("name") for s in series if isinstance(s, dict)]
    if len(set(names)) != len(names):
        out.append((("series",), "two series have the same name: name each one"))
    for i, s in enumerate(series):
        values = s.get("values") if isinstance(s, dict) else None
        if not isinstance(values, list):
            continue
        if kind != "histogram" and xs and len(values) != len(xs):
            out.append((("series", i, "values"), f"has {len(values)} values for {len(xs)} x values: one value per x"))
        for j, v in enumerate(values):
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isfinite(v):
                out.append((("series", i, "values", j), "is not a finite number"))
    for i, a in enumerate(data.get("annotations") or []):
        if not isinstance(a, dict):
            continue
        if (a.get("x") is None) == (a.get("y") is None):
            out.append((("annotations", i), "needs exactly one of x (a vertical rule) or y (a horizontal rule)"))
        elif a.get("x") is not None and kind != "histogram" and xs and a["x"] not in xs:
            out.append(
                (("annotations", i, "x"), f"`{a['x']}` is not one of x.values: put the rule at a value the chart has")
            )
        if isinstance(a.get("y"), float) and not math.isfinite(a["y"]):
            out.append((("annotations", i, "y"), "is not a finite number"))
    return out


# -- Vega-Lite --------------------------------------------------------------------------------


def vega_lite(chart: Chart, palette: dict[str, Any] = LIGHT) -> dict[str, Any]:
    """The Vega-Lite spec of a chart: inline data only, fixed size, the card's palette."""
    colours = list(palette["series"][: len(chart.series)])
    names = [s.name for s in chart.series]
    legend = {"orient": "bottom", "title": None, "labelColor": palette["text"]} if len(names) > 1 else None
    colour = {"field": "series", "type": "nominal", "scale": {"domain": names, "range": colours}, "legend": legend}
    # SI labels (2k, 39M) with a plain 0: an axis shares one prefix across its ticks ("0M").
    zero_or_si = "datum.value == 0 ? '0' : format(datum.value, '~s')"
    y_axis: dict[str, Any] = {"title": chart.y_label or None, "labelExpr": zero_or_si, "tickCount": 5}
    layers: list[dict] = []
    if chart.kind == "histogram":
        rows = [{"series": s.name, "v": v} for s in chart.series for v in s.values]
        binning = {"step": chart.bin} if chart.bin else {"maxbins": 20}
        layers.append(
            {
                "data": {"values": rows},
                "mark": {"type": "bar", "opacity": 0.85},
                "encoding": {
                    "x": {"field": "v", "type": "quantitative", "bin": binning, "title": chart.x_label or None},
                    "y": {
                        "aggregate": "count",
                        "type": "quantitative",
                        "title": chart.y_label or "Count",
                        "axis": {"tickMinStep": 1},
                    },
                    "color": colour,
                },
            }
        )
        x_enc: dict[str, Any] = {"field": "x", "type": "quantitative"}
    else:
        rows = [
            {"series": s.name, "x": x, "y": v}
            for s in chart.series
            for x, v in zip(chart.x_values, s.values, strict=True)
        ]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in chart.x_values)
        x_enc = {"field": "x", "type": "quantitative"}
        if not numeric:
            x_enc = {"field": "x", "type": "ordinal", "sort": None}
        x_axis = {"title": chart.x_label or None, "labelAngle": 0, "labelOverlap": "greedy"}
        encoding: dict[str, Any] = {
            "x": {**x_enc, "axis": x_axis},
            "y": {"field": "y", "type": "quantitative", "axis": y_axis},
            "color": colour,
        }
        mark: dict
        if chart.kind == "bars":
            mark = {"type": "bar"}
            if len(names) > 1:
                encoding["xOffset"] = {"field": "series", "sort": names}
        elif chart.kind == "area":
            mark = {"type": "area", "opacity": 0.35, "line": {"strokeWidth": 2}}
        else:
            mark = {"type": "line", "point": len(chart.x_values) <= 24, "strokeWidth": 2}
        layers.append({"data": {"values": rows}, "mark": mark, "encoding": encoding})
    enc: dict[str, Any]
    note = palette["note"]
    rule = {"type": "rule", "color": note, "strokeDash": [4, 3], "strokeWidth": 1.5}
    for a in chart.annotations:
        if a.x is not None:
            enc = {"x": {**x_enc, "field": "at"}}
            datum = {"at": a.x, "label": a.label}
            text = {
                "type": "text",
                "color": note,
                "align": "left",
                "dx": 3,
                "dy": 2,
                "baseline": "top",
                "fontSize": 12,
                "fontWeight": "bold",
            }
            layers.append(
                {
                    "data": {"values": [datum]},
                    "layer": [
                        {"mark": rule, "encoding": enc},
                        {"mark": text, "encoding": {**enc, "y": {"value": 0}, "text": {"field": "label"}}},
                    ],
                }
            )
        else:
            enc = {"y": {"datum": a.y, "type": "quantitative"}}
            text = {"type": "text", "color": note, "align": "right", "dy": -5, "fontSize": 12, "fontWeight": "bold"}
            layers.append(
                {
                    "layer": [
                        {"mark": rule, "encoding": enc},
                        {
                            "mark": text,
                            "encoding": {**enc, "x": {"value": {"expr": "width"}}, "text": {"value": a.label}},
                        },
                    ],
                    "data": {"values": [{}]},
                }
            )
    axis = {
        "labelColor": palette["text"],
        "titleColor": palette["text"],
        "gridColor": palette["grid"],
        "domainColor": palette["axis"],
        "tickColor": palette["axis"],
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": HEIGHT,
        "autosize": {"type": "pad"},
        "background": None,
        "padding": 4,
        "config": {
            "font": "Helvetica, Arial, sans-serif",
            "axis": axis,
            "view": {"stroke": None},
            "legend": {"labelFontSize": 12, "labelColor": palette["text"]},
        },
        "layer": layers,
    }


@lru_cache(maxsize=1)
def renderer_version() -> str:
    from importlib import metadata

    try:
        return f"vl-convert-python={metadata.version('vl-convert-python')}"
    except metadata.PackageNotFoundError:
        return "vl-convert-python=?"


DRAWN: list[int] = []  # how many charts each build had to draw (tests look: a warm build draws none)
_engine_pid: int | None = None  # the process that started the chart engine: its threads run there


def engine_running() -> bool:
    """Whether this process has started the chart engine: a child forked from it then would hang
    on the engine's locks, so charts are drawn here instead (a watch session's later builds)."""
    return _engine_pid == os.getpid()


def draw(chart: Chart) -> str:
    """The light SVG of a chart, drawn by Vega-Lite with every URL refused."""
    import vl_convert

    global _engine_pid
    _engine_pid = os.getpid()
    return vl_convert.vegalite_to_svg(vega_lite(chart, LIGHT), vl_version="5.21", allowed_base_urls=[])


def night(svg: str) -> str:
    """The night variant: the light palette's exact colours swapped for the night ones."""
    pairs: list[tuple[str, str]] = [(LIGHT[k], NIGHT[k]) for k in ("text", "grid", "axis", "note")]
    pairs += list(zip(LIGHT["series"], NIGHT["series"], strict=True))
    for light, dark in pairs:
        svg = svg.replace(light, dark)
    return svg


def figure(chart: Chart) -> str:
    """The card HTML: the title as text (the card's font, its colours), the chart for each mode (CSS
    shows one), and its text alternative as the caption."""
    light, dark = chart.names()
    alt = html.escape(chart.alt, quote=True)
    return (
        f'<figure class="wte-chart"><div class="wte-chart-title">{html.escape(chart.title, quote=False)}</div>'
        f'<img class="wte-chart-light" src="{light}" alt="{alt}">'
        f'<img class="wte-chart-night" src="{dark}" alt="{alt}">'
        f"<figcaption>{html.escape(chart.alt, quote=False)}</figcaption></figure>"
    )
