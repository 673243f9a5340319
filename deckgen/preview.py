"""`deckgen preview`: the deck as a static HTML site, every card shown as Anki shows it.

Reviewers of a pull request and authors need to see cards without an Anki install. Anki
renders a card in Rust (``rslib/src/template.rs`` and ``cloze.rs``); this module repeats
the small part of that our note types use (field replacements, ``{{#Field}}`` sections,
the ``cloze`` filter and Anki's exact cloze HTML) on the very templates and CSS that go
into the package. A test renders every card of a build both here and with the ``anki``
package after importing that build, so the two cannot drift apart unnoticed.

The site is plain files: no network, no build step, one small inline script for the
search box and the night and phone switches. Everything is rendered in memory first;
files are written (each atomically) only when all of it succeeded.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import genanki

from deckgen import notes, package
from deckgen.builder import BuildOptions, Prepared, prepare
from deckgen.errors import DeckgenError, Problem
from deckgen.model import DIFFICULTIES, Bucket, Project, Scenario

NOTES_DIR = "notes"

# What each card asks, for the headings of a note page (the README's table).
CARD_LABELS = {
    "scenario": {
        1: "Which bucket?",
        2: "Concepts to name",
        3: "Immediate fix",
        4: "Prevent it",
        5: "Tell the business",
    },
    "bucket": {1: "Typical scenarios", 2: "Concepts an interviewer expects"},
}


# -- Anki's cloze HTML (rslib/src/cloze.rs) --------------------------------------------------

_MATHJAX = re.compile(r"(\\[(\[])(.*?)(\\[\])])", re.S | re.I)
_HTML = re.compile(r"(<!--.*?-->)|(<style.*?>.*?</style>)|(<script.*?>.*?</script>)|(<.*?>)", re.S | re.I)
_MAX_OPEN_CLOZES = 10


@dataclass
class _Cloze:
    ordinals: tuple[int, ...]
    nodes: list  # of str | _Cloze
    hint: str | None = None


_CLOZE_TOKEN = re.compile(r"\{\{c([\d,]*)::|\}\}")


def _cloze_tokens(text: str):
    """Anki's cloze lexer: ``{{cN::`` (N may list ordinals), ``}}``, and the text between."""
    start = 0
    for m in _CLOZE_TOKEN.finditer(text):
        if m.group(0) == "}}":
            token: tuple[int, ...] | None = None
        else:
            token = tuple(sorted({int(p) for p in m.group(1).split(",") if p}))
            if not token:  # "{{c::" opens nothing: it stays text
                continue
        if start < m.start():
            yield text[start : m.start()]
        yield token
        start = m.end()
    if start < len(text):
        yield text[start:]


def _parse_clozes(text: str) -> list:
    """Nested clozes as a tree; a stray ``}}`` stays text and ``::`` in a cloze starts its hint."""
    stack: list[_Cloze] = []
    out: list = []
    for token in _cloze_tokens(text):
        if isinstance(token, tuple):
            if len(stack) < _MAX_OPEN_CLOZES:
                stack.append(_Cloze(token, []))
        elif token is None:
            if stack:
                done = stack.pop()
                (stack[-1].nodes if stack else out).append(done)
            else:
                out.append("}}")
        elif stack:
            if not token.startswith("image-occlusion:") and "::" in token:
                token, stack[-1].hint = token.split("::", 1)
            stack[-1].nodes.append(token)
        else:
            out.append(token)
    return out


def encode_attribute(text: str) -> str:
    """The ``htmlescape`` crate's ``encode_attribute``, which Anki uses for ``data-cloze``."""
    named = {'"': "&quot;", "&": "&amp;", "'": "&#x27;", "<": "&lt;", ">": "&gt;"}
    out = []
    for c in text:
        if c in named:
            out.append(named[c])
        elif ord(c) < 256 and not (c.isascii() and c.isalnum()):
            out.append(f"&#x{ord(c):02X};")
        else:
            out.append(c)
    return "".join(out)


def _reveal(node: _Cloze, ordinal: int, question: bool, found: list[bool]) -> str:
    active = ordinal in node.ordinals
    found[0] = found[0] or active
    inner = "".join(n if isinstance(n, str) else _reveal(n, ordinal, question, found) for n in node.nodes)
    ords = ",".join(str(o) for o in node.ordinals)
    if question and active:
        hint = node.hint if node.hint is not None else "..."
        return f'<span class="cloze" data-cloze="{encode_attribute(inner)}" data-ordinal="{ords}">[{hint}]</span>'
    css = "cloze" if active else "cloze-inactive"
    return f'<span class="{css}" data-ordinal="{ords}">{inner}</span>'


def reveal_clozes(text: str, ordinal: int, question: bool) -> str:
    """Anki's ``cloze`` filter: cloze ``ordinal`` hidden (front) or marked (back), others shown.

    Like Anki, a field without that cloze renders empty.
    """
    found = [False]
    out = "".join(n if isinstance(n, str) else _reveal(n, ordinal, question, found) for n in _parse_clozes(text))
    if not found[0]:
        return ""
    return _MATHJAX.sub(lambda m: m.group(1) + _HTML.sub("", m.group(2)) + m.group(3), out)


def cloze_ordinals(fields: tuple[str, ...] | list[str]) -> list[int]:
    """The cards a cloze note makes: one per cloze number in any field (at least card 1)."""
    found: set[int] = set()

    def walk(nodes: list) -> None:
        for n in nodes:
            if isinstance(n, _Cloze):
                found.update(n.ordinals)
                walk(n.nodes)

    for value in fields:
        walk(_parse_clozes(value))
    return sorted(o for o in found if o > 0) or [1]


# -- Anki's template language (rslib/src/template.rs) ----------------------------------------

_FIELD_EMPTY = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.I | re.S)


class TemplateError(ValueError):
    """A template this renderer does not understand; Anki would show an error card."""


def _template_tokens(template: str):
    if template.lstrip().startswith("{{=<% %>=}}"):
        raise TemplateError("the legacy {{=<% %>=}} syntax is not supported")
    i, start, n = 0, 0, len(template)
    while i < n:
        kind = None
        if template.startswith("{{", i):
            end, size, kind = template.find("}}", i + 2), 2, "handle"
        elif template.startswith("<!--", i):
            end, size, kind = template.find("-->", i + 4), 3, "comment"
        if kind and end >= 0:
            if start < i:
                yield "text", template[start:i]
            body = template[i + (2 if kind == "handle" else 4) : end]
            yield (_classify(body) if kind == "handle" else ("comment", body))
            i = start = end + size
        else:
            i += 1
    if start < n:
        yield "text", template[start:]


def _classify(body: str) -> tuple[str, str]:
    inner = body.lstrip("{").strip()
    if len(inner) >= 2 and inner[0] in "#/^":
        return {"#": "open", "/": "close", "^": "open_not"}[inner[0]], inner[1:].lstrip()
    return "field", inner


def _parse_template(tokens, open_key: str | None = None) -> list:
    nodes: list = []
    for kind, value in tokens:
        if kind in ("open", "open_not"):
            nodes.append((kind, value, _parse_template(tokens, value)))
        elif kind == "close":
            if value != open_key:
                raise TemplateError(f"{{{{/{value}}}}} closes nothing that is open")
            return nodes
        else:
            nodes.append((kind, value, None))
    if open_key is not None:
        raise TemplateError(f"{{{{#{open_key}}}}} is never closed")
    return nodes


def _apply_filters(text: str, filters: list[str], ordinal: int, question: bool) -> str:
    if any(name.startswith("tts ") for name in filters):
        return ""  # Anki shows a play button here: nothing to preview
    for name in filters:
        if name == "cloze":
            text = reveal_clozes(text, ordinal, question)
        elif name:
            raise TemplateError(f"the {name!r} filter is not supported by the preview")
    return text


def _render_nodes(nodes: list, fields: dict[str, str], ordinal: int, front: str | None) -> str:
    out = []
    for kind, value, children in nodes:
        if kind == "text":
            out.append(value)
        elif kind == "comment":
            out.append(f"<!--{value}-->")
        elif kind == "field":
            *filters, key = value.split(":")
            if key == "FrontSide":
                out.append(front or "")
            elif key in fields:
                out.append(_apply_filters(fields[key], filters[::-1], ordinal, front is None))
            elif key or not filters:
                raise TemplateError(f"{{{{{value}}}}}: there is no field called {key!r}")
        else:
            if value not in fields and not re.fullmatch(r"c\d+", value):
                raise TemplateError(f"{{{{#{value}}}}}: there is no field called {value!r}")
            filled = value in fields and not _FIELD_EMPTY.match(fields[value])
            inner = _render_nodes(children, fields, ordinal, front)  # errors count either way, as in Anki
            if filled == (kind == "open"):
                out.append(inner)
    return "".join(out)


_TTS_TAG = re.compile(r"\[anki:tts[^\]]*\].*?\[/anki:tts\]", re.S)


def render_template(template: str, fields: dict[str, str], ordinal: int, front: str | None = None) -> str:
    """One side of card ``ordinal`` (1-based); ``front`` is the rendered question on the back.

    Text-to-speech (``{{tts ...}}`` and ``[anki:tts]`` tags) becomes a play button in Anki:
    nothing to show here.
    """
    fields = {**{f"c{ordinal}": "1"}, **fields}
    return _TTS_TAG.sub("", _render_nodes(_parse_template(_template_tokens(template)), fields, ordinal, front))


@dataclass(frozen=True)
class Card:
    ordinal: int  # 1-based, as in c1..c5
    label: str
    question: str  # without the <style> Anki puts in front
    answer: str


def render_cards(
    model: genanki.Model, values: tuple[str, ...], labels: dict[int, str] | None = None
) -> tuple[Card, ...]:
    """Every card of a cloze note, front and back, as Anki renders them."""
    template = model.templates[0]
    fields = {f["name"]: v for f, v in zip(model.fields, values, strict=False)}
    cards = []
    for n in cloze_ordinals(values):
        question = render_template(template["qfmt"], fields, n)
        answer = render_template(template["afmt"], fields, n, front=question)
        cards.append(Card(n, (labels or {}).get(n, f"Card {n}"), question, answer))
    return tuple(cards)


# -- the site -----------------------------------------------------------------------------------


def plain_text(fragment: str) -> str:
    """What a reader sees of a field: clozes opened, tags dropped, entities decoded."""
    revealed = "".join(n if isinstance(n, str) else _plain_cloze(n) for n in _parse_clozes(fragment))
    return re.sub(r"\s+", " ", html.unescape(_HTML.sub(" ", revealed))).strip()


def _plain_cloze(node: _Cloze) -> str:
    return "".join(n if isinstance(n, str) else _plain_cloze(n) for n in node.nodes)


@dataclass(frozen=True)
class PreviewNote:
    """One note of the site: where its page goes and what the index says about it."""

    key: str  # scenario id, or "bucket--<slug>" (ids never hold "--")
    guid: str
    kind: str  # "scenario" | "bucket"
    title: str  # plain text
    group: str  # category slug, or "classify"
    difficulty: str  # "" for bucket notes
    buckets: tuple[str, ...]  # slugs
    search: str  # lower-case plain text of every field
    css: str
    cards: tuple[Card, ...]

    @property
    def href(self) -> str:
        return f"{NOTES_DIR}/{self.key}.html"


@dataclass(frozen=True)
class Site:
    """Every file of the preview, in memory: pages by relative path, media by source path."""

    pages: dict[str, str]
    media: dict[str, Path | bytes]
    notes: tuple[PreviewNote, ...]

    @property
    def cards(self) -> int:
        return sum(len(n.cards) for n in self.notes)


CardMemo = dict  # (model, fields) -> (cards, fields' plain text): what `preview --watch` keeps between rebuilds


def preview_notes(
    project: Project, prepared: Prepared, tts: str | None = None, memo: CardMemo | None = None
) -> tuple[PreviewNote, ...]:
    """The notes of a prepared build (same filters, same rendering) with each card's two sides.

    With ``memo``, a note whose fields did not change since the last call is not rendered again.
    """
    deck = project.deck
    models = notes.models(tts)
    by_guid: dict[str, Bucket | Scenario] = {notes.bucket_guid(deck.slug, b.slug): b for b in deck.buckets}
    by_guid.update({notes.note_guid(deck.slug, s.id): s for s in prepared.scenarios})
    out = []
    for spec in prepared.specs:
        source = by_guid[spec.guid]
        model = models[spec.model]
        memo_key = (spec.model, spec.fields)
        kept = memo.get(memo_key) if memo is not None else None
        if kept is None:
            kept = render_cards(model, spec.fields, CARD_LABELS[spec.model]), [plain_text(v) for v in spec.fields]
            if memo is not None:
                memo[memo_key] = kept
        cards, plain = kept
        buckets: tuple[str, ...]
        if isinstance(source, Bucket):
            key, group, difficulty, buckets = f"bucket--{source.slug}", "classify", "", (source.slug,)
            words = [source.title, source.slug]
        else:
            key, group, difficulty, buckets = source.id, source.category, source.difficulty, source.buckets
            words = [source.title, source.id, deck.category(source.category).title, source.difficulty]
            words += [deck.bucket(b).title for b in source.buckets]
        search = " ".join(words + plain).lower()
        out.append(
            PreviewNote(
                key,
                spec.guid,
                spec.model,
                plain[0],
                group,
                difficulty,
                tuple(buckets),
                re.sub(r"\s+", " ", search),
                model.css,
                cards,
            )
        )
    return tuple(out)


def search_index(site_notes: tuple[PreviewNote, ...]) -> list[dict[str, Any]]:
    """What the index page's search box filters: one entry per note, in deck order."""
    return [
        {
            "key": n.key,
            "href": n.href,
            "title": n.title,
            "group": n.group,
            "difficulty": n.difficulty,
            "buckets": list(n.buckets),
            "text": n.search,
        }
        for n in site_notes
    ]


def site_files(site: Site) -> dict[str, bytes]:
    """Every file of the site as bytes, by relative path, media read now, index.html last."""
    blobs: dict[str, bytes] = {}
    for rel, source in site.media.items():
        try:
            blobs[rel] = source if isinstance(source, bytes) else source.read_bytes()
        except OSError as exc:
            raise DeckgenError(Problem(str(source), None, f"cannot read the media file: {exc.strerror}")) from None
    blobs.update({rel: text.encode("utf-8") for rel, text in site.pages.items() if rel != "index.html"})
    blobs["index.html"] = site.pages["index.html"].encode("utf-8")
    return blobs


def render_site(project: Project, options: BuildOptions = BuildOptions(), memo: CardMemo | None = None) -> Site:
    """The whole preview in memory (pure: no file is read or written)."""
    prepared = prepare(project, options)
    site_notes = preview_notes(project, prepared, options.tts, memo)
    pages = {"index.html": _index_page(project, site_notes, prepared.description)}
    for i, note in enumerate(site_notes):
        prev = site_notes[i - 1] if i > 0 else None
        nxt = site_notes[i + 1] if i + 1 < len(site_notes) else None
        pages[note.href] = _note_page(project, note, prev, nxt)
    media = {f"{NOTES_DIR}/{name}": source for name, source in prepared.media.items()}
    return Site(pages, media, site_notes)


@dataclass(frozen=True)
class PreviewResult:
    index: Path
    notes: int
    cards: int


def write_preview(project: Project, out_dir: Path | str, options: BuildOptions = BuildOptions()) -> PreviewResult:
    """Render the site, write it whole beside ``out_dir``, then move it into place.

    A failure while writing (a full disk, a file size limit) leaves ``out_dir`` exactly as it
    was; once every file is written, renames (which need no space) put them in place, index.html
    last, and pages of notes no longer in the deck are removed.
    """
    out_dir = Path(out_dir)
    site = render_site(project, options)
    blobs = site_files(site)
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        package.clean_stale(parent)
        staging = Path(tempfile.mkdtemp(prefix=package.temp_prefix(out_dir), suffix=".tmp", dir=parent))
    except OSError as exc:
        raise DeckgenError(
            Problem(str(out_dir), None, f"cannot write here: {exc.strerror}; nothing was changed")
        ) from None
    try:
        for rel, data in blobs.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o644)
        if out_dir.exists() and not out_dir.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        for rel in blobs:  # whatever would stop a rename is found before the first one
            package.check_target(out_dir / rel)
        for rel in blobs:  # index.html is last
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, out_dir / rel)
    except OSError as exc:
        raise DeckgenError(
            Problem(str(out_dir), None, f"cannot write the preview: {exc.strerror or exc}; nothing was changed")
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    notes_dir = out_dir / NOTES_DIR
    for page in notes_dir.glob("*.html"):
        if f"{NOTES_DIR}/{page.name}" not in blobs:
            page.unlink()  # a note renamed or retired since the last preview
    return PreviewResult(out_dir / "index.html", len(site.notes), site.cards)


# -- HTML -------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("deckgen").joinpath(name).read_text("utf-8")


PAGE_CSS = _asset("preview.css")  # the page's own chrome (pv- classes only)
PAGE_JS = _asset("preview.js")  # night and phone switches, the index's filter


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, body: str, css: str = "", home: str = "index.html") -> str:
    card_style = f"<style>{css}</style>\n" if css else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n<style>{PAGE_CSS}</style>\n{card_style}</head>\n"
        '<body class="pv">\n<div class="pv-bar">'
        f'<a class="pv-home" href="{home}">All notes</a>'
        '<button type="button" class="pv-btn" data-pv-toggle="night" aria-pressed="false">Night</button>'
        '<button type="button" class="pv-btn" data-pv-toggle="phone" aria-pressed="false">Phone width</button>'
        f'</div>\n<main class="pv-main">\n{body}\n</main>\n<script>{PAGE_JS}</script>\n</body>\n</html>\n'
    )


def _meta_line(project: Project, note: PreviewNote) -> str:
    deck = project.deck
    if note.kind == "bucket":
        return "Classify the scenario · bucket"
    parts = [deck.category(note.group).title, note.difficulty]
    parts.append("buckets: " + ", ".join(deck.bucket(b).title for b in note.buckets))
    return " · ".join(parts)


def _note_page(project: Project, note: PreviewNote, prev: PreviewNote | None, nxt: PreviewNote | None) -> str:
    nav = []
    if prev:
        nav.append(f'<a href="{_e(prev.key)}.html" rel="prev" title="{_e(prev.title)}">← Previous</a>')
    nav.append('<a href="../index.html">Index</a>')
    if nxt:
        nav.append(f'<a href="{_e(nxt.key)}.html" rel="next" title="{_e(nxt.title)}">Next →</a>')
    nav += [f'<a href="#c{c.ordinal}">c{c.ordinal}</a>' for c in note.cards]
    parts = [
        f"<h1>{_e(note.title)}</h1>",
        f'<p class="pv-sub">{_e(_meta_line(project, note))} · {len(note.cards)} cards · <code>{_e(note.key)}</code></p>',
        f'<nav class="pv-nav">{"".join(nav)}</nav>',
    ]
    for card in note.cards:
        sides = "".join(
            f'<div class="pv-side pv-{side}"><h3>{side_title}</h3>'
            f'<div class="pv-frame"><div class="card card{card.ordinal}">{content}</div></div></div>'
            for side, side_title, content in (("front", "Front", card.question), ("back", "Back", card.answer))
        )
        parts.append(
            f'<section class="pv-card" id="c{card.ordinal}"><h2>c{card.ordinal} · {_e(card.label)}</h2>'
            f'<div class="pv-sides">{sides}</div></section>'
        )
    return _page(f"{note.title} · preview", "\n".join(parts), note.css, home="../index.html")


def _index_page(project: Project, site_notes: tuple[PreviewNote, ...], description: str) -> str:
    deck = project.deck
    groups = [("classify", notes.CLASSIFY_DECK)] + [
        (c.slug, f"{i:02d} {c.title}") for i, c in enumerate(deck.categories, start=1)
    ]
    entries = {e["key"]: e for e in search_index(site_notes)}
    sections = []
    for slug, title in groups:
        members = [n for n in site_notes if n.group == slug]
        if not members:
            continue
        items = "".join(
            f'<li data-search="{_e(n.search)}" data-buckets="{_e(" ".join(n.buckets))}" '
            f'data-difficulty="{_e(n.difficulty)}" data-key="{_e(n.key)}">'
            f'<a href="{_e(entries[n.key]["href"])}">{_e(n.title)}</a>'
            f'<span class="pv-sub">{_e(_index_meta(project, n))}</span></li>'
            for n in members
        )
        sections.append(
            f'<section class="pv-group" data-group="{_e(slug)}"><h2>{_e(title)}</h2>'
            f'<ul class="pv-list">{items}</ul></section>'
        )
    bucket_options = "".join(f'<option value="{_e(b.slug)}">{_e(b.title)}</option>' for b in deck.buckets)
    difficulty_options = "".join(f'<option value="{d}">{d}</option>' for d in DIFFICULTIES)
    scenarios = sum(1 for n in site_notes if n.kind == "scenario")
    body = (
        f"<h1>{_e(deck.title)}</h1>\n"
        f'<p class="pv-sub">Version {_e(deck.version)} · {scenarios} scenarios · {len(site_notes)} notes · '
        f"{sum(len(n.cards) for n in site_notes)} cards · a preview of the cards as Anki shows them</p>\n"
        f'<details class="pv-desc"><summary>The deck\'s description in Anki</summary>{description}</details>\n'
        '<div class="pv-filters" role="search">'
        '<label class="pv-sr" for="pv-q">Search</label>'
        '<input id="pv-q" type="search" placeholder="Search every card…" autocomplete="off">'
        '<label class="pv-sr" for="pv-bucket">Bucket</label>'
        f'<select id="pv-bucket"><option value="">All buckets</option>{bucket_options}</select>'
        '<label class="pv-sr" for="pv-difficulty">Difficulty</label>'
        f'<select id="pv-difficulty"><option value="">All difficulties</option>{difficulty_options}</select>'
        "</div>\n"
        f'<p class="pv-count" id="pv-count" aria-live="polite">{len(site_notes)} of {len(site_notes)} notes</p>\n'
        + "\n".join(sections)
    )
    return _page(f"{deck.title} · preview", body)


def _index_meta(project: Project, note: PreviewNote) -> str:
    if note.kind == "bucket":
        return f"bucket · {len(note.cards)} cards"
    buckets = ", ".join(project.deck.bucket(b).title for b in note.buckets)
    return f"{note.difficulty} · {buckets}"
