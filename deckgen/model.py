"""Stage 2: plain data to a validated, frozen model of the deck.

The JSON Schemas in ``deckgen/schema`` say what a file may hold (and give editors
autocomplete); this module turns their verdicts into ``path:line: message`` problems and
adds the checks a schema cannot make: ids against file names, categories against folders,
references into deck.yaml, media on disk, cloze markers and code languages.
Every problem in every file is gathered before anything fails.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import jsonschema

from deckgen import charts as charts_mod
from deckgen import loader, parallel
from deckgen.cache_key import key
from deckgen.errors import Problem
from deckgen.loader import Document, SourceTree, kind_of
from deckgen.render import MarkerError, known_lexer, parse_markers

if TYPE_CHECKING:
    from deckgen.cache import Cache

DIFFICULTIES = ("easy", "medium", "hard")
SECTIONS = ("immediate", "preventive", "communication")
MEDIA_TYPES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
    ".svg": (),
}
MAX_MEDIA_BYTES = 2 * 1024 * 1024
_MEDIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}\.(png|jpg|jpeg|gif|svg|webp)")


@dataclass(frozen=True)
class Category:
    slug: str
    title: str
    target: int | None


@dataclass(frozen=True)
class Bucket:
    slug: str
    title: str
    triggers: tuple[str, ...]
    typical: tuple[str, ...]
    concepts: tuple[str, ...]


@dataclass(frozen=True)
class Deck:
    slug: str
    title: str
    version: str
    released: dt.date
    description: str
    tag_root: str
    categories: tuple[Category, ...]
    buckets: tuple[Bucket, ...]
    tts: str = "en_US"  # the language of the release's text-to-speech edition

    def category(self, slug: str) -> Category:
        return next(c for c in self.categories if c.slug == slug)

    def bucket(self, slug: str) -> Bucket:
        return next(b for b in self.buckets if b.slug == slug)

    def classification_phrases(self) -> set[str]:
        return {p for b in self.buckets for p in b.typical + b.concepts}


@dataclass(frozen=True, slots=True)
class Code:
    lang: str
    source: str


@dataclass(frozen=True, slots=True)
class Reference:
    """A page that backs the scenario's key claims, shown under "Read more" on the back."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    category: str
    buckets: tuple[str, ...]
    difficulty: str
    situation: str
    concepts: tuple[str, ...]
    immediate: tuple[str, ...]
    preventive: tuple[str, ...]
    communication: tuple[str, ...]
    why: str = ""
    pitfalls: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    code: Code | None = None
    media: tuple[str, ...] = ()
    story: str = ""
    added: str | None = None
    covers: tuple[str, ...] = ()  # classification phrases from deck.yaml this scenario exercises
    references: tuple[Reference, ...] = ()
    charts: tuple[charts_mod.Chart, ...] = ()
    source: str = ""  # the file as shown to the user
    digest: str = ""  # what the render cache knows this version of the file by

    def answer(self, section: str) -> tuple[str, ...]:
        return getattr(self, section)


@dataclass(frozen=True)
class Retired:
    """A scenario taken out of the deck; its id is never used again."""

    id: str
    version: str
    reason: str


@dataclass(frozen=True)
class Project:
    """A validated deck: what every later stage works from."""

    deck: Deck
    scenarios: tuple[Scenario, ...]
    media_dir: Path
    retired: tuple[Retired, ...] = ()
    changes: str = ""  # Markdown: what this version changed (from CHANGELOG.md), on the overview
    cache: Cache | None = field(default=None, compare=False, repr=False)
    # Charts drawn for this project (digest -> light SVG): a release's editions draw each once.
    drawn: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


# -- schema ---------------------------------------------------------------------------


@cache
def schema(name: str) -> dict:
    text = resources.files("deckgen").joinpath("schema", f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str):
    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name))


def where_label(path) -> str:
    """A place in a document as messages name it: ``answer.immediate[2]``."""
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_problems(doc: Document, name: str) -> list[Problem]:
    """Run the JSON Schema and phrase each error for a person, with its line."""
    problems = []
    for err in _validator(name).iter_errors(doc.data):
        problems.extend(_phrase(doc, err, name))
    return problems


def _phrase(doc: Document, err, name: str) -> list[Problem]:
    path = tuple(err.absolute_path)
    where = where_label(path)
    prefix = f"{where}: " if where else ""
    value = err.instance
    v = err.validator
    if v == "anyOf":  # optional fields: show the error of the non-null branch
        inner = [e for e in err.context if e.validator != "type" or e.validator_value != "null"]
        if inner:
            best = max(inner, key=lambda e: len(e.absolute_path))
            return _phrase(doc, best, name)
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        out = []
        for key in sorted(set(value) - set(allowed)):
            near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean `{near[0]}`?" if near else f"known keys: {', '.join(allowed)}"
            kp = where_label(path + (key,))
            out.append(Problem(doc.shown, doc.key_line(path + (key,)), f"{kp}: unknown key `{key}`: {hint}"))
        return out
    if v == "required":
        missing = re.match(r"'([^']+)'", err.message)
        key = missing.group(1) if missing else err.message
        return [Problem(doc.shown, doc.line(path), f"{prefix}missing required key `{key}`")]
    line = doc.line(path)
    if v == "type":
        want = err.validator_value
        want = want if isinstance(want, str) else "/".join(want)
        words = {"string": "text", "array": "a list", "object": "a mapping", "integer": "a whole number"}
        msg = f"{prefix}expected {words.get(want, want)}, got {kind_of(value)}"
        if isinstance(value, bool) and want == "string":
            msg += ": YAML reads unquoted yes/no/on/off/true/false as true/false; put the text in quotes"
        elif isinstance(value, dict) and want == "string":
            msg += ": text holding ': ' must be quoted ('key: value')"
        elif isinstance(value, list) and want == "string":
            msg += ": text that starts with [ must be quoted ('[[phrase]] rest')"
        elif value is None and want == "string":
            msg += ": write the text after the key, or remove the key"
        return [Problem(doc.shown, line, msg)]
    if v == "enum":
        choices = " | ".join(map(str, err.validator_value))
        return [Problem(doc.shown, line, f"{prefix}{value!r} is not one of {choices}")]
    if v == "pattern":
        what = {
            "version": "a version MAJOR.MINOR.PATCH, like 1.2.0",
            "added": "a version MAJOR.MINOR.PATCH, like 1.2.0",
            "released": "a date YYYY-MM-DD",
        }.get(path[-1] if path else "")
        if what is None and path and path[-1] == "url":
            what = "an https:// address of the page you read (no other schemes, no spaces or quotes)"
        if what is None and "png" in err.validator_value:
            what = "a file name directly in media/ ending .png, .jpg, .jpeg, .gif, .svg or .webp (no folders)"
        if what is None:
            what = "lower-case letters, digits and single hyphens (like kafka-lag-after-deploy)"
        return [Problem(doc.shown, line, f"{prefix}{value!r} is not valid: expected {what}")]
    if v in ("minItems", "maxItems"):
        n = len(value)
        bound = err.validator_value
        rel = "at least" if v == "minItems" else "at most"
        return [Problem(doc.shown, line, f"{prefix}has {n} item{'s' * (n != 1)}; {rel} {bound} allowed")]
    if v in ("minLength", "maxLength"):
        if v == "minLength":
            return [Problem(doc.shown, line, f"{prefix}is empty: write the text or remove the key")]
        return [Problem(doc.shown, line, f"{prefix}is {len(value):,} characters; the limit is {err.validator_value:,}")]
    if v == "uniqueItems":
        return [Problem(doc.shown, line, f"{prefix}lists the same item twice")]
    if v in ("exclusiveMinimum", "exclusiveMaximum"):
        word = "more" if v == "exclusiveMinimum" else "less"
        return [Problem(doc.shown, line, f"{prefix}{value} must be {word} than {err.validator_value}")]
    if v in ("minimum", "maximum"):
        return [Problem(doc.shown, line, f"{prefix}{value} is out of range ({v} {err.validator_value})")]
    return [Problem(doc.shown, line, f"{prefix}{err.message}")]  # pragma: no cover - a schema we do not use


# -- deck.yaml --------------------------------------------------------------------------


def validate_deck(doc: Document) -> tuple[Deck | None, list[Problem]]:
    problems = schema_problems(doc, "deck")
    data = doc.data
    released = None
    raw = data.get("released")
    if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            released = dt.date.fromisoformat(raw)
        except ValueError:
            problems.append(Problem(doc.shown, doc.line(("released",)), f"released: {raw} is not a real date"))
    for where, title in _deck_names(data):
        # Anki reads '::' in a deck name as a subdeck, and drops tabs and line breaks from names.
        if "::" in title or re.search(r"[\t\n\r]", title):
            problems.append(
                Problem(
                    doc.shown,
                    doc.line(where),
                    f"{where_label(where)}: `{title.strip()}` holds "
                    f"{'::' if '::' in title else 'a tab or line break'}, which Anki reads as a deck "
                    "separator or drops: a deck name is one line without '::'",
                )
            )
    for part in ("categories", "buckets"):
        items = data.get(part)
        if isinstance(items, list):
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                slug = item.get("slug") if isinstance(item, dict) else None
                if isinstance(slug, str) and part == "categories" and slug in WINDOWS_RESERVED:
                    problems.append(
                        Problem(
                            doc.shown,
                            doc.line((part, i, "slug")),
                            f"{part}[{i + 1}].slug: `{slug}` is "
                            "a device name on Windows, where that folder cannot exist: choose another",
                        )
                    )
                if isinstance(slug, str):
                    if slug in seen:
                        problems.append(
                            Problem(
                                doc.shown,
                                doc.line((part, i, "slug")),
                                f"{part}[{i + 1}].slug: `{slug}` is already used by {part}[{seen[slug] + 1}]",
                            )
                        )
                    seen.setdefault(slug, i)
    if problems or released is None:
        return None, problems
    deck = Deck(
        slug=data["slug"],
        title=data["title"],
        version=data["version"],
        released=released,
        description=data.get("description") or "",
        tag_root=data.get("tag_root") or data["slug"],
        tts=data.get("tts") or "en_US",
        categories=tuple(Category(c["slug"], c["title"], c.get("target")) for c in data["categories"]),
        buckets=tuple(
            Bucket(b["slug"], b["title"], tuple(b["triggers"]), tuple(b["typical"]), tuple(b["concepts"]))
            for b in data["buckets"]
        ),
    )
    return deck, problems


def _deck_names(data: dict):
    """The deck.yaml titles that become Anki deck names: the deck's and each category's."""
    if isinstance(data.get("title"), str):
        yield ("title",), data["title"]
    categories = data.get("categories")
    for i, c in enumerate(categories if isinstance(categories, list) else []):
        if isinstance(c, dict) and isinstance(c.get("title"), str):
            yield ("categories", i, "title"), c["title"]


# -- scenarios ------------------------------------------------------------------------


MAX_BRACKETS = 300  # per Markdown field: Python-Markdown's link parsing is quadratic in '['
MAX_BULLET = 600  # the schema's limit; longer bullets are refused before their markers are parsed
# Names Windows keeps for devices, whatever the extension: `con.yaml` cannot exist there.
WINDOWS_RESERVED = frozenset(["con", "prn", "aux", "nul"] + [f"{p}{i}" for p in ("com", "lpt") for i in range(10)])


def _markdown_fields(data: dict):
    """Every Markdown text in a scenario, with where it is (code.source is not Markdown)."""
    for name in ("title", "situation", "why", "story"):
        if isinstance(data.get(name), str):
            yield (name,), data[name]
    for name in ("concepts", "pitfalls", "follow_ups"):
        for i, item in enumerate(data.get(name) or () if isinstance(data.get(name), list) else ()):
            if isinstance(item, str):
                yield (name, i), item
    answer = data.get("answer")
    if isinstance(answer, dict):
        for section in SECTIONS:
            bullets = answer.get(section)
            for i, item in enumerate(bullets if isinstance(bullets, list) else ()):
                if isinstance(item, str):
                    yield ("answer", section, i), item


def validate_scenario(doc: Document, deck: Deck | None, media_dir: Path) -> tuple[Scenario | None, list[Problem]]:
    problems = schema_problems(doc, "scenario")
    data = doc.data
    for where, text in _markdown_fields(data):
        if text.count("[") > MAX_BRACKETS:
            problems.append(
                Problem(
                    doc.shown,
                    doc.line(where),
                    f"{where_label(where)}: holds {text.count('['):,} '[' characters; "
                    f"the limit is {MAX_BRACKETS} (Markdown slows down badly past it): move data into `code`",
                )
            )
        if where[0] == "answer" and len(text) <= MAX_BULLET:  # markers mean a cloze only in answer bullets
            try:
                parse_markers(text)
            except MarkerError as exc:
                problems.append(Problem(doc.shown, doc.line(where), f"{where_label(where)}: {exc}"))
    sid = data.get("id")
    if isinstance(sid, str) and sid in WINDOWS_RESERVED:
        problems.append(
            Problem(
                doc.shown,
                doc.line(("id",)),
                f"id: `{sid}` is a device name on Windows, where `{sid}.yaml` cannot exist: choose another id",
            )
        )
    if isinstance(sid, str) and sid != doc.path.stem:
        problems.append(
            Problem(
                doc.shown,
                doc.line(("id",)),
                f"id: `{sid}` must equal the file name `{doc.path.stem}`: rename the file or fix the id (ids never change once released)",
            )
        )
    folder = doc.path.parent.name
    cat = data.get("category")
    if isinstance(cat, str):
        if cat != folder:
            problems.append(
                Problem(
                    doc.shown,
                    doc.line(("category",)),
                    f"category: `{cat}` does not match the folder `{folder}`: move the file or fix the category",
                )
            )
        if deck is not None and cat not in {c.slug for c in deck.categories}:
            problems.append(
                Problem(
                    doc.shown,
                    doc.line(("category",)),
                    f"category: `{cat}` is not in deck.yaml{_suggest(cat, [c.slug for c in deck.categories])}",
                )
            )
    if deck is not None and isinstance(data.get("buckets"), list):
        known = [b.slug for b in deck.buckets]
        for i, b in enumerate(data["buckets"]):
            if isinstance(b, str) and b not in known:
                problems.append(
                    Problem(
                        doc.shown,
                        doc.line(("buckets", i)),
                        f"buckets[{i + 1}]: `{b}` is not a bucket in deck.yaml{_suggest(b, known)}",
                    )
                )
    code = data.get("code")
    if isinstance(code, dict) and isinstance(code.get("lang"), str) and not known_lexer(code["lang"]):
        problems.append(
            Problem(
                doc.shown,
                doc.line(("code", "lang")),
                f"code.lang: `{code['lang']}` is not a Pygments language: try python, sql, scala, yaml, properties, bash, json",
            )
        )
    covers = data.get("covers")
    if deck is not None and isinstance(covers, list):
        phrases = deck.classification_phrases()
        for i, phrase in enumerate(covers):
            if isinstance(phrase, str) and phrase not in phrases:
                problems.append(
                    Problem(
                        doc.shown,
                        doc.line(("covers", i)),
                        f"covers[{i + 1}]: `{phrase}` is not a typical scenario or concept in deck.yaml{_suggest(phrase, sorted(phrases))}",
                    )
                )
    media = data.get("media")
    if isinstance(media, list):
        for i, name in enumerate(media):
            if isinstance(name, str) and _MEDIA_NAME.fullmatch(name):
                msg = check_media(media_dir, name)
                if msg:
                    problems.append(Problem(doc.shown, doc.line(("media", i)), f"media[{i + 1}]: {msg}"))
    raw_charts = data.get("chart")
    chart_list = [raw_charts] if isinstance(raw_charts, dict) else raw_charts if isinstance(raw_charts, list) else []
    if not schema_problems_for(problems, ("chart",)):
        for i, c in enumerate(chart_list):
            base = ("chart",) if isinstance(raw_charts, dict) else ("chart", i)
            for where, msg in charts_mod.problems(c):
                problems.append(Problem(doc.shown, doc.line(base + where), f"{where_label(base + where)}: {msg}"))
    references = data.get("references")
    if isinstance(references, list):
        for i, ref in enumerate(references):
            url = ref.get("url") if isinstance(ref, dict) else None
            if isinstance(url, str) and url.startswith("https://") and (msg := _reference_problem(url)):
                problems.append(
                    Problem(doc.shown, doc.line(("references", i, "url")), f"references[{i + 1}].url: {msg}")
                )
    if problems:
        return None, problems
    c, answer = data.get("code"), data["answer"]
    return Scenario(
        id=sid,
        title=data["title"],
        category=cat,
        buckets=tuple(data["buckets"]),
        difficulty=data["difficulty"],
        situation=data["situation"],
        concepts=tuple(data["concepts"]),
        immediate=tuple(answer["immediate"]),
        preventive=tuple(answer["preventive"]),
        communication=tuple(answer["communication"]),
        why=data.get("why") or "",
        pitfalls=tuple(data.get("pitfalls") or ()),
        follow_ups=tuple(data.get("follow_ups") or ()),
        code=Code(c["lang"], c["source"]) if c else None,
        media=tuple(data.get("media") or ()),
        story=data.get("story") or "",
        added=data.get("added"),
        covers=tuple(data.get("covers") or ()),
        references=tuple(Reference(r["title"], r["url"]) for r in data.get("references") or ()),
        charts=tuple(charts_mod.from_data(c) for c in chart_list),
        source=doc.shown,
    ), []


def schema_problems_for(problems: list[Problem], where: tuple) -> bool:
    """Whether the schema already found a problem under ``where`` (then its finer checks would only repeat it)."""
    label = where_label(where)
    return any(p.message.startswith((label + ":", label + ".", label + "[")) for p in problems)


def _reference_problem(url: str) -> str | None:
    """Why an https address is not a plain link to a page (the schema has checked its form)."""
    parts = urlsplit(url)
    if not parts.hostname or "." not in parts.hostname:
        return f"`{url}` names no host: write the whole address, https://host/path"
    if parts.username or parts.password:
        return f"`{url}` holds a user name or password: link to the public page"
    return None


def _suggest(value: str, known: list[str]) -> str:
    near = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if near:
        return f": did you mean `{near[0]}`?"
    return f"; known: {', '.join(known)}" if len(known) <= 12 else ": see deck.yaml"


def check_media(media_dir: Path, name: str) -> str | None:
    """Why ``name`` cannot be used as a media file, or None when it can."""
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        return f"`{name}` must be a file name directly in media/, with no folders"
    ext = os.path.splitext(name)[1].lower()
    if ext not in MEDIA_TYPES:
        return f"`{name}`: only png, jpg, jpeg, gif, svg and webp are supported"
    path = Path(media_dir) / name
    if path.is_symlink():
        real = path.resolve()
        try:
            real.relative_to(Path(media_dir).resolve())
        except ValueError:
            return f"`{name}` is a link that leads out of media/: copy the file in instead"
    if not path.is_file():
        return f"`{name}` is not in {media_dir}/: add the file or fix the name"
    size = path.stat().st_size
    if size > MAX_MEDIA_BYTES:
        return f"`{name}` is {size:,} bytes; the limit is {MAX_MEDIA_BYTES:,} (2 MiB): shrink it"
    with open(path, "rb") as fh:
        head = fh.read(512)
    magic = MEDIA_TYPES[ext]
    if ext == ".svg":
        if b"<svg" not in head and b"<?xml" not in head:
            return f"`{name}` is not an SVG image"
        why = svg_problem(path.read_bytes())
        if why:
            return f"`{name}` {why}: media must be plain pictures (an SVG opened on its own runs its scripts)"
    elif not any(head.startswith(m) for m in magic) or (ext == ".webp" and head[8:12] != b"WEBP"):
        return f"`{name}` is not a {ext[1:].upper()} image, whatever its name says"
    return None


_SVG_ACTIVE = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video", "handler", "listener"}
_SVG_LINKS = {"href", "src", "action", "formaction"}


def svg_problem(data: bytes) -> str | None:
    """What makes an SVG more than a picture: scripts, handlers, outside references, entities."""
    import xml.etree.ElementTree as ET

    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.I):
        return "declares a DOCTYPE or entities"
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return f"is not well-formed XML ({exc})"
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
        if tag in _SVG_ACTIVE:
            return f"holds a <{tag}> element"
        texts = [el.text or ""] if tag == "style" else []
        for attr, value in el.attrib.items():
            local = attr.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return f"holds an event handler ({local})"
            if local in _SVG_LINKS and not value.strip().startswith("#"):
                return f"refers outside itself ({local}={value[:40]!r})"
            texts.append(value)
        for text in texts:
            low = text.lower().replace(" ", "")
            if "@import" in low or "javascript:" in low or re.search(r"url\((?!['\"]?#)", low):
                return "loads something from outside (url(), @import or javascript:)"
    return None


_CHECK_STATE: dict = {}


def _setup_checks(deck: Deck | None, media_dir: Path) -> None:
    _CHECK_STATE["deck"], _CHECK_STATE["media_dir"] = deck, media_dir


def _check_file(job: tuple[Path, str, bytes, str]):
    """Parse and validate one scenario file (runs in a worker for large decks)."""
    path, shown, raw, digest = job
    doc, found = loader.parse_document(path, raw, shown)
    if doc is None:
        return None, found, None, None
    scenario, found = validate_scenario(doc, _CHECK_STATE["deck"], _CHECK_STATE["media_dir"])
    if scenario is not None:
        scenario = replace(scenario, digest=digest)
    return scenario, found, doc.data.get("id"), doc.line(("id",))


def validate_tree(tree: SourceTree, media_dir: Path, cache=None) -> tuple[Project | None, list[Problem]]:
    """Validate every file, gather every problem, and return the project only if none.

    Files are read one at a time and dropped once validated, so memory does not grow with
    the parsed documents; with a ``cache``, unchanged files skip parsing and validation.
    """
    problems = list(tree.problems)
    deck = None
    if tree.deck is not None:
        deck, found = validate_deck(tree.deck)
        problems += found
    retired: list[Retired] = []
    retired_at: dict[str, int | None] = {}
    if tree.retired is not None:
        doc = tree.retired
        found = schema_problems(doc, "retired")
        problems += found
        if not found:
            for i, item in enumerate(doc.data["retired"]):
                if item["id"] in retired_at:
                    problems.append(
                        Problem(
                            doc.shown,
                            doc.line(("retired", i, "id")),
                            f"retired[{i + 1}].id: `{item['id']}` is listed twice",
                        )
                    )
                retired_at[item["id"]] = doc.line(("retired", i, "id"))
                retired.append(Retired(item["id"], item["version"], item["reason"]))
    # Read files a batch at a time and look them up in the cache; parse and validate the
    # rest in parallel. Only one batch of raw bytes is alive at any moment.
    deck_bytes = tree.deck.raw if tree.deck is not None else b""
    found_by_file: list = []
    with parallel.Mapper(_setup_checks, (deck, media_dir), len(tree.files)) as mapper:
        for batch in parallel.batched(tree.files, 512):
            outcomes: list = []
            misses: list[tuple[int, str, tuple]] = []
            for f in batch:
                raw, found = loader.read_bytes(f.path, f.shown)
                if raw is None:
                    outcomes.append((None, found, None, None))
                    continue
                digest = key(deck_bytes, f.shown, raw) if cache is not None and deck is not None else ""
                hit = cache.scenario(digest) if digest else None
                if hit is None:
                    misses.append((len(outcomes), digest, (f.path, f.shown, raw, digest)))
                    outcomes.append(None)
                    continue
                # Valid when cached with this deck.yaml; only media on disk can have changed since.
                scenario, id_line = hit
                media_problems = [
                    Problem(f.shown, id_line, f"media: {m}")
                    for m in (check_media(media_dir, n) for n in scenario.media)
                    if m
                ]
                outcomes.append((scenario, media_problems, scenario.id, id_line))
            for (i, digest, _), outcome in zip(
                misses, mapper.map(_check_file, [job for _, _, job in misses]), strict=False
            ):
                scenario, _, _, id_line = outcome
                if scenario is not None and cache is not None and digest:
                    cache.put_scenario(digest, scenario, id_line)
                outcomes[i] = outcome
            found_by_file += outcomes

    scenarios: list[Scenario] = []
    first_seen: dict[str, str] = {}
    for f, (scenario, found, sid, id_line) in zip(tree.files, found_by_file, strict=False):
        problems += found
        if isinstance(sid, str):
            if sid in first_seen:
                problems.append(
                    Problem(
                        f.shown,
                        id_line,
                        f"id: `{sid}` is already used by {first_seen[sid]}: ids are unique in the deck",
                    )
                )
            else:
                first_seen[sid] = f.shown
            if sid in retired_at:
                problems.append(
                    Problem(
                        f.shown,
                        id_line,
                        f"id: `{sid}` was retired (retired.yaml:{retired_at[sid]}): ids are never reused, choose a new one",
                    )
                )
        if scenario is not None and not found:
            scenarios.append(scenario)
    if problems or deck is None:
        return None, problems
    order = {c.slug: i for i, c in enumerate(deck.categories)}
    scenarios.sort(key=lambda s: (order[s.category], s.id))
    return Project(deck, tuple(scenarios), Path(media_dir), tuple(retired), cache=cache), []
