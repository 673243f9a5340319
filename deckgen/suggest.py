"""`deckgen suggest COLLECTION`: corrections made in Anki, back to the sources as suggestions.

Users fix a typo or sharpen a bullet while they study, usually on the phone. Writing Anki's
note ids into the sources would make them unshareable, and syncing both ways breaks; this
only reads. It opens what a user exported from Anki (an .apkg of the deck, or a whole
.colpkg) with the ``anki`` package, finds this deck's notes by GUID, and tells a user's edit
from an older release: a section whose hash is in no released manifest (``releases/``) and
not in what the sources build today was changed by hand. For each such section it prints a
word diff against today's sources with the file and line to edit; ``--format patch`` turns the
edits that map onto one bullet or field into a patch for ``git apply``. Tags, scheduling and
notes of other decks are never reported; nothing is ever written into the sources.
"""

from __future__ import annotations

import difflib
import html
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from deckgen import builder, loader, manifest, notes
from deckgen.builder import load_project
from deckgen.errors import DeckgenError, Problem, display_path
from deckgen.loader import Document
from deckgen.model import where_label
from deckgen.preview import plain_text

ANKI_MISSING = "deckgen suggest reads Anki's exports with the anki package: pip install 'deckgen[anki]'"


@dataclass(frozen=True)
class Exported:
    guid: str
    kind: str  # "scenario" | "bucket"
    fields: dict[str, str]
    tags: tuple[str, ...]


def read_export(path: Path) -> list[Exported]:
    """This deck's kinds of notes in an .apkg or .colpkg (current and legacy formats), via Anki itself."""
    try:
        from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
    except ImportError:
        raise DeckgenError(Problem("suggest", None, ANKI_MISSING)) from None
    path = Path(path)
    if not path.is_file():
        raise DeckgenError(Problem(str(path), None, "not found: export the deck from Anki (File > Export)"))
    if not zipfile.is_zipfile(path):
        raise DeckgenError(Problem(str(path), None, "not an Anki export: an .apkg or .colpkg is a zip archive"))
    tmp = Path(tempfile.mkdtemp(prefix="deckgen-suggest-"))
    col = None
    try:
        if path.suffix == ".colpkg":
            from anki._backend import RustBackend

            RustBackend().import_collection_package(
                col_path=str(tmp / "collection.anki2"),
                backup_path=str(path),
                media_folder=str(tmp / "media"),
                media_db=str(tmp / "media.db2"),
            )
            col = Collection(str(tmp / "collection.anki2"))
        else:
            col = Collection(str(tmp / "collection.anki2"))
            col.import_anki_package(
                ImportAnkiPackageRequest(
                    package_path=str(path),
                    options=ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False),
                )
            )
        out = []
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            note_type = note.note_type() or {}
            kind = notes.MODEL_KINDS.get(str(note_type.get("name", "")).rstrip("+"))
            if kind is not None:
                out.append(Exported(note.guid, kind, dict(note.items()), tuple(note.tags)))
        return out
    except Exception as exc:  # Anki's own errors (a damaged or foreign file) are the user's to fix
        raise DeckgenError(Problem(str(path), None, f"Anki cannot read this export: {exc}")) from None
    finally:
        if col is not None:
            col.close()
        shutil.rmtree(tmp, ignore_errors=True)


# -- visible text, item by item ----------------------------------------------------------------

_LI = re.compile(r"<li>(.*?)</li>", re.S)
_SECTION = re.compile(r'<section(?: class="([^"]*)")?>(?:<h3>(.*?)</h3>)?(.*?)</section>', re.S)
_FIGURE = re.compile(r'<figure class="wte-chart">.*?</figure>', re.S)
BACK_PARTS = {
    "Why": "why",
    "Pitfalls": "pitfalls",
    "Follow-up questions": "follow_ups",
    "My story": "story",
    "Code": "code",
}


def _text(fragment: str) -> str:
    return plain_text(fragment.replace("&nbsp;", " ").replace("\xa0", " "))


def items(kind: str, fields: dict[str, str]) -> dict[tuple, str]:
    """Every piece a user can edit, by where it lives in the source, as visible text."""
    out: dict[tuple, str] = {}
    text = manifest.split_text(fields.get("Text", ""))
    if kind == "scenario":
        out[("title",)] = _text(fields.get("Title", ""))
        out[("situation",)] = _text(_FIGURE.sub("", fields.get("Situation", "")))
        for n, name in manifest.SCENARIO_SECTIONS.items():
            if name == "buckets":  # chosen from deck.yaml's list: not a text the author wrote
                continue
            where = (name,) if name == "concepts" else ("answer", name)
            for i, li in enumerate(_LI.findall(text.get(n, ""))):
                out[(*where, i)] = _text(li)
        back, _ = manifest.split_references(fields.get("Back Extra", ""))
        for _css, heading, body in _SECTION.findall(back):
            part = BACK_PARTS.get(html.unescape(heading))
            if part in ("pitfalls", "follow_ups"):
                for i, li in enumerate(_LI.findall(body)):
                    out[(part, i)] = _text(li)
            elif part is not None:
                out[(part,) if part != "code" else ("code", "source")] = _text(body)
    else:
        out[("title",)] = _text(fields.get("Bucket", ""))
        for i, li in enumerate(_LI.findall(fields.get("Triggers", ""))):
            out[("triggers", i)] = _text(li).strip("“”")
        for n, name in manifest.BUCKET_SECTIONS.items():
            for i, li in enumerate(_LI.findall(text.get(n, ""))):
                out[(name, i)] = _text(li)
    return out


def word_diff(old: str, new: str) -> str:
    """``[-removed-]{+added+}`` between two texts, word by word (git's --word-diff style)."""
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(" ".join(a[i1:i2]))
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)


# -- comparing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    where: tuple  # inside the source document
    line: int | None
    old: str  # what the sources build today (visible text)
    new: str  # what the user's note says


@dataclass
class NoteEdits:
    label: str  # the scenario id, or bucket:<slug>
    title: str
    source: Path
    edits: list[Edit] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestions:
    notes: tuple[NoteEdits, ...]
    unchanged: int


def _known_hashes(releases_dir: Path) -> dict[str, dict[str, set[str]]]:
    """For every GUID, every hash each section has had in a release: those are not user edits."""
    known: dict[str, dict[str, set[str]]] = {}
    if releases_dir.is_dir():
        for path in sorted(releases_dir.glob("*.manifest.json")):
            try:
                record = manifest.read(path)
            except DeckgenError:
                continue
            for entry in record["notes"]:
                for section, h in entry["sections"].items():
                    known.setdefault(entry["guid"], {}).setdefault(section, set()).add(h)
    return known


def suggest(
    export: Path | str,
    scenarios_dir: Path | str = "scenarios",
    media_dir: Path | str = "media",
    releases_dir: Path | str = "releases",
) -> Suggestions:
    exported = read_export(Path(export))
    project = load_project(scenarios_dir, media_dir)
    deck = project.deck
    specs = {s.guid: s for s in builder.specs(project)}  # the notes only: no chart is drawn
    known = _known_hashes(Path(releases_dir))
    scenario_of = {notes.note_guid(deck.slug, s.id): s for s in project.scenarios}
    bucket_of = {notes.bucket_guid(deck.slug, b.slug): (i, b) for i, b in enumerate(deck.buckets)}
    docs: dict[str, Document] = {}

    def doc(shown: str) -> Document:
        """A source as loaded (its shown path is its path: load_project shows paths as given)."""
        if shown not in docs:
            parsed, _ = loader.read_one(Path(shown), shown)
            assert parsed is not None  # the project just loaded
            docs[shown] = parsed
        return docs[shown]

    found: list[NoteEdits] = []
    unchanged = 0
    for note in sorted(exported, key=lambda n: n.guid):
        spec = specs.get(note.guid)
        if spec is None:  # a note of our note types from another deck
            continue
        names = notes.SCENARIO_FIELDS if note.kind == "scenario" else notes.BUCKET_FIELDS
        fields = dict(zip(names, spec.fields, strict=True))
        theirs = manifest.note_entry(note.kind, note.guid, note.fields, list(note.tags), deck.tag_root)
        ours = manifest.note_entry(note.kind, note.guid, fields, [], deck.tag_root)
        history = known.get(note.guid, {})
        touched = [
            s
            for s, h in theirs["sections"].items()
            if s != "tags" and h != ours["sections"].get(s) and h not in history.get(s, set())
        ]
        if not touched:
            unchanged += 1
            continue
        base: tuple  # where the note lives in its document
        if note.kind == "scenario":
            s = scenario_of[note.guid]
            shown, base = s.source, ()
            edits = NoteEdits(s.id, s.title, Path(shown))
        else:
            i, b = bucket_of[note.guid]
            shown, base = str(Path(scenarios_dir) / loader.DECK_FILE), ("buckets", i)
            edits = NoteEdits(f"bucket:{b.slug}", b.title, Path(shown))
        document = doc(shown)
        old_items = items(note.kind, fields)
        new_items = items(note.kind, note.fields)
        for where in sorted(set(old_items) | set(new_items), key=_order):
            old, new = old_items.get(where, ""), new_items.get(where, "")
            if old != new:
                full = base + where
                edits.edits.append(Edit(full, document.line(full), old, new))
        if edits.edits:
            edits.edits.sort(key=lambda e: (e.line or 0, _order(e.where)))
            found.append(edits)
        else:
            unchanged += 1
    return Suggestions(tuple(found), unchanged)


def _order(where: tuple) -> tuple:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in where)


def format_text(result: Suggestions) -> str:
    lines = []
    for n in result.notes:
        lines.append(f"{display_path(n.source)}  ({n.label}: {n.title})")
        for e in n.edits:
            at = f"{display_path(n.source)}:{e.line}" if e.line else display_path(n.source)
            lines.append(f"  {at}: {where_label(e.where)}")
            lines.append(f"    {word_diff(e.old, e.new)}")
    lines.append(
        f"{len(result.notes)} note{'s' * (len(result.notes) != 1)} changed in Anki, "
        f"{result.unchanged} unchanged or only tagged or rescheduled"
    )
    return "\n".join(lines)


# -- patches -------------------------------------------------------------------------------------


def _scalar_style(line: str) -> str:
    body = re.sub(r"^\s*(-\s+|[\w.-]+:\s*)", "", line, count=1)
    return body[:1] if body[:1] in ("'", '"', "|", ">") else "plain"


def _quote(text: str, style: str) -> str | None:
    if style == "'":
        return text.replace("'", "''")
    if style == '"':
        return text.replace("\\", "\\\\").replace('"', '\\"')
    if style in ("|", ">"):
        return text
    return None if re.search(r": |\s#|^[\[\]{}&*!|>'\"%@`-]", text) else text


def _apply(lines: list[str], first: int, last: int, edit: Edit, style: str) -> bool:
    """Apply one edit's word changes to source lines [first, last]; False if any does not map cleanly.

    Each change is placed by its words in the source, widened by up to three neighbouring
    words until it is found exactly once; a change that crosses markup (a marker's brackets,
    backticks) or a line break is not found, and the edit is left to the author.
    """
    a, b = edit.old.split(), edit.new.split()
    region = "\n".join(lines[first : last + 1])
    for op, i1, i2, j1, j2 in reversed(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()):
        if op == "equal":
            continue
        placed = False
        for left, right in [(x, y) for n in range(7) for x in range(4) for y in range(4) if x + y == n]:
            if i1 - left < 0 or i2 + right > len(a) or (j1 == j2 or i1 == i2) and left + right == 0:
                continue
            old = " ".join(a[i1 - left : i2 + right])
            new = " ".join(a[i1 - left : i1] + b[j1:j2] + a[i2 : i2 + right])
            quoted = _quote(new, style)
            if old and quoted is not None and "\n" not in old and region.count(old) == 1:
                region = region.replace(old, quoted, 1)
                placed = True
                break
        if not placed:
            return False
    lines[first : last + 1] = region.split("\n")
    return True


def _extent(line: int, style: str, lines: list[str]) -> tuple[int, int]:
    """The source lines (0-based) of the value on ``line``: that line, or a block scalar's body."""
    if style in ("|", ">"):
        indent = None
        end = line
        for k in range(line + 1, len(lines)):
            if not lines[k].strip():
                end = k
                continue
            width = len(lines[k]) - len(lines[k].lstrip())
            if indent is None:
                indent = width
            if width < (indent or 0):
                break
            end = k
        return line + 1, end
    return line, line


def patch(result: Suggestions) -> tuple[str, list[str]]:
    """A unified diff of the YAML for every edit that maps onto its bullet or field, and what does not."""
    out: list[str] = []
    skipped: list[str] = []
    by_file: dict[Path, list[tuple[NoteEdits, Edit]]] = {}
    for n in result.notes:
        for e in n.edits:
            by_file.setdefault(n.source, []).append((n, e))
    for path, pairs in sorted(by_file.items()):
        original = path.read_text("utf-8").splitlines(keepends=False)
        lines = list(original)
        for _, e in sorted(pairs, key=lambda p: -(p[1].line or 0)):  # bottom up: earlier lines stay put
            line = (e.line or 1) - 1
            style = _scalar_style(original[line])
            first, last = _extent(line, style, original)
            if not e.old or not e.new or not _apply(lines, first, last, e, style):
                skipped.append(
                    f"{display_path(path)}:{e.line}: {where_label(e.where)} does not map cleanly onto the "
                    f"source (markup, a new or removed item, or a change across lines): edit it by hand"
                )
        if lines != original:
            rel = display_path(path)
            out.extend(
                difflib.unified_diff(
                    [ln + "\n" for ln in original], [ln + "\n" for ln in lines], f"a/{rel}", f"b/{rel}"
                )
            )
    return "".join(out), skipped
