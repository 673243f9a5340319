"""Stage 4: rendered content to Anki notes: note types, IDs, GUIDs, tags, deck names.

Identity is the contract with every user's collection. A note's GUID comes from the deck
slug and the scenario id alone (never from its fields, so an edit updates the note in
place); note type and deck IDs are derived from fixed names. Field and template *names*
are frozen: Anki treats a renamed field as a new note type and skips every existing note.
Template HTML and CSS inside those names may change freely.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import genanki

from deckgen.charts import figure
from deckgen.model import Deck, Project, Scenario
from deckgen.render import Renderer, cloze, code_css, escape_anki

# Frozen names. A test pins them: change them and every user's update silently fails.
SCENARIO_MODEL_NAME = "deckgen Scenario"
SCENARIO_FIELDS = ("Title", "Situation", "Text", "Back Extra", "Meta", "Scenario ID", "Spare 1", "Spare 2")
BUCKET_MODEL_NAME = "deckgen Bucket"
BUCKET_FIELDS = ("Bucket", "Triggers", "Text", "Back Extra", "Spare 1", "Spare 2")
MODEL_KINDS = {SCENARIO_MODEL_NAME: "scenario", BUCKET_MODEL_NAME: "bucket"}  # a note type's name -> kind
TEMPLATE_NAME = "Cloze"

SECTION_TITLES = {
    "immediate": "1 · Immediate fix",
    "preventive": "2 · Prevent it",
    "communication": "3 · Tell the business",
}
# MathJax (Anki's, AnkiDroid's) leaves these alone: the deck shows `\(` as written, never as math.
NO_MATH = "mathjax_ignore tex2jax_ignore"
SECTION_CLOZE = {"immediate": 3, "preventive": 4, "communication": 5}
CLASSIFY_DECK = "00 Classify the scenario"
# What an unmarked [...] stands for, where the card's heading does not say it.
PRIMARY_HINT, ALSO_HINT = "primary bucket", "also"
CONCEPT_HINT, TYPICAL_HINT = "concept", "typical scenario"


def stable_id(*parts: str) -> int:
    """A positive 52-bit ID from names: fixed across builds, machines and versions."""
    digest = hashlib.sha256("\x1f".join(("deckgen",) + parts).encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "big") % (2**52 - 2**40)) + 2**40


SCENARIO_MODEL_ID = stable_id("note-type", SCENARIO_MODEL_NAME)
BUCKET_MODEL_ID = stable_id("note-type", BUCKET_MODEL_NAME)


def note_guid(deck_slug: str, scenario_id: str) -> str:
    return genanki.guid_for(deck_slug, scenario_id)


def bucket_guid(deck_slug: str, bucket_slug: str) -> str:
    # "__bucket__" cannot collide with a scenario id: ids are [a-z0-9-] only.
    return genanki.guid_for(deck_slug, "bucket", bucket_slug)


def deck_id(deck: Deck, *sub: str) -> int:
    return stable_id("deck", deck.slug, *sub)


def category_deck_name(deck: Deck, index: int, title: str) -> str:
    return f"{deck.title}::{index:02d} {title}"


def tags_for(deck: Deck, s: Scenario) -> list[str]:
    root = deck.tag_root
    tags = [f"{root}::category::{s.category}", f"{root}::difficulty::{s.difficulty}"]
    tags += [f"{root}::bucket::{b}" for b in s.buckets]
    return sorted(tags)


# -- note types -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _css() -> str:
    base = resources.files("deckgen").joinpath("style.css").read_text("utf-8")
    light = code_css(".wte", "default")
    night = "\n".join(code_css(prefix, "monokai") for prefix in (".nightMode .wte", ".night_mode .wte"))
    return f"{base}\n/* code, light */\n{light}\n/* code, night */\n{night}\n"


# What each card asks, spoken on the front of a TTS edition (the heading says it on screen).
SCENARIO_ASKS = {
    1: "Which bucket is this? The primary one first.",
    2: "Which concepts does an interviewer listen for?",
    3: "What do you do right now?",
    4: "How do you stop it happening again?",
    5: "What do you tell the business?",
}
BUCKET_ASKS = {1: "Name its typical scenarios.", 2: "Name the concepts an interviewer expects."}
# A TTS edition's note types are this much newer than the plain edition's of the same release,
# so Anki ("update note types if newer") takes its templates over the plain ones: switching on
# speech works at the same version. A later release is at least a day newer than both.
TTS_NEWER_BY = 60


def _say(lang: str, text: str) -> str:
    return f"[anki:tts lang={lang}]{html.escape(text, quote=False)}[/anki:tts]"


def speech(lang: str, spoken_fields: tuple[str, ...], asks: dict[int, str], lead: str = "") -> tuple[str, str]:
    """TTS for a front and a back: read the fields and what card N asks; then only the revealed answer.

    Anki's ``cloze-only`` filter reads just the text of card N's clozes, so the back speaks the
    answer being asked and nothing else: a card can be done eyes-free with auto-advance.
    """
    front = _say(lang, lead) if lead else ""
    front += "".join(f"{{{{tts {lang}:{name}}}}}" for name in spoken_fields)
    front += "".join(f"{{{{#c{n}}}}}{_say(lang, text)}{{{{/c{n}}}}}" for n, text in asks.items())
    back = f"{{{{tts {lang}:cloze-only:Text}}}}"
    return f'<div class="wte-tts">{front}</div>', f'<div class="wte-tts">{back}</div>'


def answer_anchors(sections: int) -> str:
    """Where Anki scrolls after "Show Answer": just above the section the card asks.

    Anki's reviewers scroll to the element with id="answer". The Text field's sections and
    this anchor are siblings in a flex column, and the anchor's ``order`` puts it right before
    section N on card N, so the revealed answer and its heading are at the top of the screen.
    """
    return "".join(
        f'{{{{#c{n}}}}}<div id="answer" class="wte-anchor wte-a{n}"></div>{{{{/c{n}}}}}' for n in range(1, sections + 1)
    )


def _cloze_model(
    model_id: int,
    name: str,
    fields: tuple[str, ...],
    head: str,
    back_tail: str,
    sections: int,
    spoken: tuple[str, str] = ("", ""),
) -> genanki.Model:
    """A one-template cloze note type: the head, then the Text cloze; the back adds Back Extra."""
    front_speech, back_speech = spoken
    qfmt = (
        f'<div class="wte wte-front {NO_MATH}">\n{head}<div class="wte-text">{{{{cloze:Text}}}}</div>\n'
        f"{front_speech}</div>"
    )
    afmt = (
        f'<div class="wte wte-back {NO_MATH}">\n{head}<div class="wte-text">{answer_anchors(sections)}'
        "{{cloze:Text}}</div>\n"
        '{{#Back Extra}}<div class="wte-extra">{{Back Extra}}</div>{{/Back Extra}}\n'
        f"{back_tail}{back_speech}</div>"
    )
    return genanki.Model(
        model_id,
        name,
        fields=[{"name": f} for f in fields],
        templates=[{"name": TEMPLATE_NAME, "qfmt": qfmt, "afmt": afmt}],
        css=_css(),
        model_type=genanki.Model.CLOZE,
        sort_field_index=0,
    )


def scenario_model(tts: str | None = None) -> genanki.Model:
    head = (
        '<div class="wte-meta">{{Meta}}</div>\n'
        '<div class="wte-title">{{Title}}</div>\n'
        '<div class="wte-situation">{{Situation}}</div>\n'
    )
    tail = '<div class="wte-id">{{Scenario ID}}</div>\n'
    spoken = speech(tts, ("Title", "Situation"), SCENARIO_ASKS) if tts else ("", "")
    return _cloze_model(SCENARIO_MODEL_ID, SCENARIO_MODEL_NAME, SCENARIO_FIELDS, head, tail, 5, spoken)


def bucket_model(tts: str | None = None) -> genanki.Model:
    head = (
        '<div class="wte-meta">Classify the scenario · bucket</div>\n'
        '<div class="wte-title">{{Bucket}}</div>\n'
        '<div class="wte-situation wte-triggers"><div class="wte-lead">When the interviewer opens with</div>{{Triggers}}</div>\n'
    )
    spoken = speech(tts, ("Triggers",), BUCKET_ASKS, lead="When the interviewer opens with") if tts else ("", "")
    return _cloze_model(BUCKET_MODEL_ID, BUCKET_MODEL_NAME, BUCKET_FIELDS, head, "", 2, spoken)


# -- fields ---------------------------------------------------------------------------


def _section(css: str, title: str, body: str) -> str:
    return f'<div class="wte-s {css}"><h2>{title}</h2>{body}</div>'


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def scenario_fields(r: Renderer, deck: Deck, s: Scenario, for_peers: bool = False) -> tuple[str, ...]:
    """The eight field values of a scenario note, in :data:`SCENARIO_FIELDS` order."""
    bucket_titles = [escape_anki(html.escape(deck.bucket(b).title, quote=False)) for b in s.buckets]
    # One cloze per bucket, each saying what it stands for: the front shows how many are asked.
    buckets = [cloze(f"<strong>{bucket_titles[0]}</strong>", 1, PRIMARY_HINT)]
    buckets += [cloze(t, 1, ALSO_HINT) for t in bucket_titles[1:]]
    text = [
        _section("wte-s1", "Which bucket?", "<p>" + " · ".join(buckets) + "</p>"),
        _section("wte-s2", "Concepts to name", _list([r.cloze_item(c, 2, CONCEPT_HINT) for c in s.concepts])),
    ]
    for section in ("immediate", "preventive", "communication"):
        n = SECTION_CLOZE[section]
        text.append(
            _section(f"wte-s{n}", SECTION_TITLES[section], _list([r.cloze_bullet(b, n) for b in s.answer(section)]))
        )
    extra = []
    back_charts = [c for c in s.charts if c.side == "back"]
    if back_charts:
        extra.append(
            '<section class="wte-charts">' + "".join(escape_anki(figure(c)) for c in back_charts) + "</section>"
        )
    if s.why:
        extra.append(f"<section><h3>Why</h3>{r.block(s.why)}</section>")
    if s.pitfalls:
        extra.append("<section><h3>Pitfalls</h3>" + _list([r.inline(p) for p in s.pitfalls]) + "</section>")
    if s.follow_ups:
        extra.append(
            "<section><h3>Follow-up questions</h3>" + _list([r.inline(q) for q in s.follow_ups]) + "</section>"
        )
    if s.code:
        extra.append(f"<section><h3>Code</h3>{r.code(s.code.source, s.code.lang)}</section>")
    if s.media:
        imgs = "".join(f'<img src="{html.escape(m)}" alt="">' for m in s.media)
        extra.append(f"<section>{imgs}</section>")
    if s.story and not for_peers:
        extra.append(f"<section><h3>My story</h3>{r.block(s.story)}</section>")
    if s.references:
        extra.append(references_section(s.references))
    category = deck.category(s.category)
    meta = (
        f'<span class="wte-cat">{escape_anki(html.escape(category.title, quote=False))}</span> · '
        f'<span class="wte-diff wte-diff-{s.difficulty}">{s.difficulty}</span>'
    )
    front_charts = "".join(escape_anki(figure(c)) for c in s.charts if c.side == "front")
    return (
        escape_anki(html.escape(s.title, quote=False)),
        r.block(s.situation) + front_charts,
        "".join(text),
        "".join(extra),
        meta,
        s.id,
        "",
        "",
    )


REFERENCES_CLASS = "wte-refs"


def references_section(references) -> str:
    """The "Read more" links on the back: titles as text, addresses checked https by the model."""
    items = [
        f'<a href="{escape_anki(html.escape(ref.url, quote=True))}">{escape_anki(html.escape(ref.title, quote=False))}</a>'
        for ref in references
    ]
    return f'<section class="{REFERENCES_CLASS}"><h3>Read more</h3>{_list(items)}</section>'


def bucket_fields(r: Renderer, deck: Deck, bucket, titles: list[str]) -> tuple[str, ...]:
    triggers = _list([f"“{r.inline(t)}”" for t in bucket.triggers])
    text = _section("wte-s1", "Typical scenarios", _list([r.cloze_item(t, 1, TYPICAL_HINT) for t in bucket.typical]))
    text += _section(
        "wte-s2", "Concepts an interviewer expects", _list([r.cloze_item(c, 2, CONCEPT_HINT) for c in bucket.concepts])
    )
    extra = ""
    if titles:
        extra = (
            "<section><h3>Scenarios in this deck</h3>"
            + _list([escape_anki(html.escape(t, quote=False)) for t in titles])
            + "</section>"
        )
    return (escape_anki(html.escape(bucket.title, quote=False)), triggers, text, extra, "", "")


# -- assembling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSpec:
    """Everything Anki needs to know about one note, before genanki sees it."""

    guid: str
    model: str  # "scenario" | "bucket"
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck_key: str  # "classify" or a category slug


_BLOCK = re.compile(
    r"\s*(</?(?:p|ul|ol|li|h[1-6]|div|blockquote|table|thead|tbody|tr|td|th|hr|br|dl|dt|dd)\b[^>]*>)\s*"
)


def one_line_html(fragment: str) -> str:
    """HTML without line breaks or white space between blocks, code blocks kept as they are.

    Anki's overview shows the deck description with ``white-space: pre-wrap``: every line
    break in the source would break a sentence there, and indentation would show.
    """
    parts = re.split(r"(<pre\b.*?</pre>)", fragment, flags=re.S)
    for i in range(0, len(parts), 2):
        parts[i] = _BLOCK.sub(r"\1", re.sub(r"\s*\n\s*", " ", parts[i]))
    return "".join(parts).strip()


def deck_description(r: Renderer, deck: Deck, n_scenarios: int, label: str = "", changes: str = "") -> str:
    body = r.block(deck.description) if deck.description else ""
    kept = f" · {escape_anki(html.escape(label, quote=False))}" if label else ""
    news = f"<h3>What's new in {deck.version}</h3>{r.block(changes)}" if changes else ""
    return one_line_html(
        f"{body}<p><b>Version {deck.version}</b> · released {deck.released.isoformat()} · "
        f"{n_scenarios} scenarios{kept}</p>{news}"
    )


def bucket_specs(r: Renderer, deck: Deck, scenarios: tuple[Scenario, ...]) -> list[NoteSpec]:
    """One note per bucket; its back lists the scenarios whose primary bucket it is."""
    specs = []
    for b in deck.buckets:
        titles = [s.title for s in scenarios if s.buckets[0] == b.slug]
        specs.append(
            NoteSpec(
                bucket_guid(deck.slug, b.slug),
                "bucket",
                bucket_fields(r, deck, b, titles),
                (f"{deck.tag_root}::classify", f"{deck.tag_root}::bucket::{b.slug}"),
                "classify",
            )
        )
    return specs


def scenario_spec(deck: Deck, s: Scenario, fields: tuple[str, ...]) -> NoteSpec:
    return NoteSpec(note_guid(deck.slug, s.id), "scenario", fields, tuple(tags_for(deck, s)), s.category)


def models(tts: str | None = None) -> dict[str, genanki.Model]:
    return {"scenario": scenario_model(tts), "bucket": bucket_model(tts)}


def deck_objects(project: Project, used: set[str], description: str) -> dict[str, genanki.Deck]:
    """The root deck (description on the overview screen), the classify deck, one per category."""
    deck = project.deck
    decks = {
        "": genanki.Deck(deck_id(deck), deck.title, description=description),
        "classify": genanki.Deck(
            deck_id(deck, "classify"),
            f"{deck.title}::{CLASSIFY_DECK}",
            description="Read what the interviewer says; name the bucket, its typical scenarios and the concepts to bring up.",
        ),
    }
    for i, c in enumerate(deck.categories, start=1):
        if c.slug in used:
            decks[c.slug] = genanki.Deck(
                deck_id(deck, "category", c.slug),
                category_deck_name(deck, i, c.title),
                description=html.escape(c.title, quote=False),
            )
    return decks


def to_note(spec: NoteSpec, note_models: dict[str, genanki.Model]) -> genanki.Note:
    return genanki.Note(model=note_models[spec.model], fields=list(spec.fields), tags=list(spec.tags), guid=spec.guid)
