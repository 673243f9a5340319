"""What a build contains, as JSON beside the .apkg: the record a release diff reads.

A manifest names the deck version, the note types with a fingerprint of their field and
template names (the names Anki matches on), and for every note its GUID, scenario id,
category, tags and content hashes per section. The same entries can be read back out of
any .apkg, so ``deckgen diff`` works on packages built before manifests existed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import sqlite3
import zipfile
import zlib
from pathlib import Path

from deckgen._version import __version__
from deckgen.errors import DeckgenError, Problem
from deckgen.notes import MODEL_KINDS, REFERENCES_CLASS

FORMAT = 1
_SECTION = re.compile(r'<div class="wte-s wte-s(\d)">')
SCENARIO_SECTIONS = {1: "buckets", 2: "concepts", 3: "immediate", 4: "preventive", 5: "communication"}
BUCKET_SECTIONS = {1: "typical", 2: "concepts"}


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(name: str, fields: list[str], templates: list[str]) -> str:
    """What Anki compares to decide a note type is the same: its field and template names."""
    return _h(json.dumps([name, fields, templates]))


def split_text(text: str) -> dict[int, str]:
    """The Text field's sections (c1..c5) by number."""
    parts = _SECTION.split(text)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


_REFERENCES = f'<section class="{REFERENCES_CLASS}">'


def split_references(back: str) -> tuple[str, str]:
    """Back Extra without its "Read more" section, and that section ('' if none)."""
    start = back.find(_REFERENCES)
    if start < 0:
        return back, ""
    end = back.find("</section>", start) + len("</section>")
    return back[:start] + back[end:], back[start:end]


def note_entry(kind: str, guid: str, fields: dict[str, str], tags: list[str], tag_root: str) -> dict:
    """One note's manifest entry, from its rendered field values."""
    text = split_text(fields.get("Text", ""))
    if kind == "scenario":
        back, references = split_references(fields.get("Back Extra", ""))
        sections = {
            "title": fields.get("Title", ""),
            "situation": fields.get("Situation", ""),
            **{name: text.get(n, "") for n, name in SCENARIO_SECTIONS.items()},
            "back": back,
            "meta": fields.get("Meta", ""),
        }
        if references:  # only when present, so notes without references hash as they always did
            sections["references"] = references
        ident = fields.get("Scenario ID", "")
    else:
        sections = {
            "title": fields.get("Bucket", ""),
            "triggers": fields.get("Triggers", ""),
            **{name: text.get(n, "") for n, name in BUCKET_SECTIONS.items()},
            "back": fields.get("Back Extra", ""),
        }
        ident = next((t.split("::")[-1] for t in tags if t.startswith(f"{tag_root}::bucket::")), "")
    sections["tags"] = " ".join(sorted(tags))
    hashes = {k: _h(v) for k, v in sections.items()}
    category = next((t.split("::")[-1] for t in tags if t.startswith(f"{tag_root}::category::")), None)
    return {
        "guid": guid,
        "kind": kind,
        "id": ident,
        "category": category,
        "tags": sorted(tags),
        "hash": _h(json.dumps(hashes, sort_keys=True)),
        "sections": hashes,
    }


def _type_entry(mid: int, name: str, fields: list[str], templates: list[dict], css: str, mod: int | None) -> dict:
    """A note type as Anki decides on it: names (copy or not), mtime (update or not), HTML (what changes)."""
    names = [t["name"] for t in templates]
    html = "".join(t.get("qfmt", "") + "\x1e" + t.get("afmt", "") for t in templates) + "\x1e" + css
    return {
        "id": mid,
        "name": name,
        "fields": fields,
        "templates": names,
        "fingerprint": fingerprint(name, fields, names),
        "mod": mod,
        "html": _h(html),
        "speaks": "{{tts " in html or "[anki:tts" in html,
    }


def note_types(tts: str | None = None, mod: int | None = None) -> list[dict]:
    from deckgen.notes import models

    kinds = models(tts)
    return [
        _type_entry(m.model_id, m.name, [f["name"] for f in m.fields], m.templates, m.css, mod)
        for m in (kinds["scenario"], kinds["bucket"])
    ]


def model_mtime(released: dt.date, tts: str | None) -> int:
    """The note types' modification time of a build: the release's midnight UTC, a TTS edition's later."""
    from deckgen.notes import TTS_NEWER_BY
    from deckgen.package import release_timestamp

    return release_timestamp(released) + (TTS_NEWER_BY if tts else 0)


def make_manifest(project, options, entries: list[dict] | list[str], apkg_name: str, apkg_sha256: str | None) -> dict:
    deck = project.deck
    return {
        "format": FORMAT,
        "deck": {
            "slug": deck.slug,
            "title": deck.title,
            "version": deck.version,
            "released": deck.released.isoformat(),
            "tag_root": deck.tag_root,
        },
        "builder": {"name": "deckgen", "version": __version__},
        "apkg": {"file": apkg_name, "sha256": apkg_sha256},
        "build": {
            "categories": list(options.categories),
            "difficulties": list(options.difficulties),
            "for_peers": options.for_peers,
            "tts": options.tts,
            "release": options.release,
        },
        "note_types": note_types(options.tts, model_mtime(deck.released, options.tts)),
        "notes": entries,
        "retired": [{"id": r.id, "version": r.version, "reason": r.reason} for r in project.retired],
    }


def entry_text(entry: dict) -> str:
    """One note's entry as the single line it takes in the manifest file."""
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def dumps(manifest: dict) -> bytes:
    """Stable JSON with one note per line: small, diffable, and cheap to write for big decks.

    ``manifest["notes"]`` may hold entries already turned into text by :func:`entry_text`,
    so a build never keeps 10,000 entry dicts alive just to write them.
    """
    parts = []
    for name in sorted(manifest):
        if name == "notes":
            lines = [n if isinstance(n, str) else entry_text(n) for n in manifest["notes"]]
            value = "[\n" + ",\n".join(lines) + "\n]" if lines else "[]"
        else:
            value = json.dumps(manifest[name], sort_keys=True, ensure_ascii=False)
        parts.append(f"{json.dumps(name)}: {value}")
    return ("{" + ",\n".join(parts) + "}\n").encode("utf-8")


def manifest_path(apkg: Path) -> Path:
    return apkg.with_name(apkg.name[: -len(".apkg")] + ".manifest.json")


# -- reading -------------------------------------------------------------------------------


MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_COLLECTION_BYTES = 512 * 1024 * 1024
_SQL_STEPS = 200_000_000  # SQLite VM steps a package's two queries may take (a view can recurse forever)


def read(path: Path | str) -> dict:
    """A manifest from a .manifest.json file, or rebuilt from an .apkg's collection.

    Either may come from anywhere (a download, a pull request): anything that is not a
    manifest of the expected shape, or not a readable Anki package, is a :class:`DeckgenError`.
    A manifest beside its .apkg must describe that package (an interrupted build can leave
    a new package beside an old manifest).
    """
    path = Path(path)
    shown = str(path)
    try:
        if path.stat().st_size > (MAX_COLLECTION_BYTES if path.suffix == ".apkg" else MAX_MANIFEST_BYTES):
            raise DeckgenError(Problem(shown, None, "too large to be a deck deckgen wrote"))
        raw = path.read_bytes()
    except OSError as exc:
        raise DeckgenError(Problem(shown, None, f"cannot read: {exc.strerror}")) from None
    if path.suffix == ".apkg" or raw[:2] == b"PK":
        beside = manifest_path(path) if path.suffix == ".apkg" else None
        if beside is not None and beside.is_file():
            try:
                record = _from_json(beside.read_bytes(), str(beside))  # it knows retirements and filters
            except (DeckgenError, OSError):
                record = None
            if record is not None and (record.get("apkg") or {}).get("sha256") == hashlib.sha256(raw).hexdigest():
                return record
        return _from_apkg(raw, shown)
    record = _from_json(raw, shown)
    _check_pair(path, record)
    return record


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks (a 10,000-scenario package is ~9 MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_pair(path: Path, record: dict) -> None:
    name, sha = (record.get("apkg") or {}).get("file"), (record.get("apkg") or {}).get("sha256")
    if not isinstance(name, str) or not isinstance(sha, str) or name != path.name.replace(".manifest.json", ".apkg"):
        return
    apkg = path.with_name(name)
    if not apkg.is_file():
        return
    if file_sha256(apkg) != sha:
        raise DeckgenError(
            Problem(
                str(path),
                None,
                f"does not describe {apkg.name} beside it (an interrupted or "
                "hand-made build?): build again, or pass the .apkg",
            )
        )


def _from_json(raw: bytes, shown: str) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DeckgenError(Problem(shown, getattr(exc, "lineno", None), f"not a deckgen manifest: {exc}")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "notes" not in data:
        raise DeckgenError(Problem(shown, None, "not a deckgen manifest (format 1): pass a .manifest.json or an .apkg"))
    problem = _shape_problem(data)
    if problem:
        raise DeckgenError(Problem(shown, None, f"not a deckgen manifest: {problem}"))
    return data


def _is(value, kind) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool) if kind is int else isinstance(value, kind)


def _shape_problem(data: dict) -> str | None:
    """What a manifest must hold for `deckgen diff` and `release` to read it without surprises."""
    deck = data.get("deck")
    if not isinstance(deck, dict):
        return "`deck` is not a mapping"
    for key in ("version", "released", "title", "slug", "tag_root"):
        if deck.get(key) is not None and not isinstance(deck[key], str):
            return f"`deck.{key}` is not text"
    for key, kind in (("notes", list), ("note_types", list), ("retired", list)):
        if not isinstance(data.get(key, []), kind):
            return f"`{key}` is not a list"
    if data.get("build") is not None and not isinstance(data["build"], dict):
        return "`build` is not a mapping"
    if not isinstance(data.get("apkg", {}), dict):
        return "`apkg` is not a mapping"
    for i, n in enumerate(data["notes"]):
        if not isinstance(n, dict):
            return f"notes[{i + 1}] is not a mapping"
        for key in ("guid", "kind", "id", "hash"):
            if not isinstance(n.get(key), str):
                return f"notes[{i + 1}].{key} is not text"
        if n.get("category") is not None and not isinstance(n["category"], str):
            return f"notes[{i + 1}].category is not text"
        sections = n.get("sections")
        if not isinstance(sections, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sections.items()
        ):
            return f"notes[{i + 1}].sections is not a mapping of text"
    for i, t in enumerate(data.get("note_types", [])):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("fingerprint"), str):
            return f"note_types[{i + 1}] has no name or fingerprint"
        if (
            not _is(t.get("id"), int)
            or not isinstance(t.get("fields"), list)
            or not isinstance(t.get("templates"), list)
        ):
            return f"note_types[{i + 1}] has no id, fields or templates"
    for i, r in enumerate(data.get("retired", [])):
        if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("id", "version", "reason")):
            return f"retired[{i + 1}] needs text id, version and reason"
    return None


def _from_apkg(raw: bytes, shown: str) -> dict:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = zf.namelist()
            member = next((n for n in ("collection.anki21", "collection.anki2") if n in names), None)
            if member is None:
                raise DeckgenError(Problem(shown, None, "no collection inside: not an Anki package deckgen can read"))
            if zf.getinfo(member).file_size > MAX_COLLECTION_BYTES:
                raise DeckgenError(Problem(shown, None, "collection too large to read"))
            database = zf.read(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, EOFError, zlib.error) as exc:
        raise DeckgenError(
            Problem(shown, None, f"not a readable zip file ({exc}): an .apkg is a zip archive")
        ) from None
    try:
        models_json, decks_json, rows = _query(database)
        return _record(shown, raw, models_json, decks_json, rows)
    except DeckgenError:
        raise
    except sqlite3.OperationalError as exc:
        why = "it takes too long to read (a recursive view?)" if "interrupt" in str(exc) else str(exc)
        raise DeckgenError(Problem(shown, None, f"unreadable collection: {why}")) from None
    except (sqlite3.Error, MemoryError, OverflowError) as exc:
        raise DeckgenError(Problem(shown, None, f"unreadable collection: {exc}")) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        detail = str(exc) if isinstance(exc, (ValueError, TypeError)) else type(exc).__name__
        raise DeckgenError(Problem(shown, None, f"not an Anki package deckgen can read: {detail}")) from None


def _query(database: bytes):
    """The two queries `diff` needs, on real tables only, with a bound on the work they may take."""
    conn = sqlite3.connect(":memory:")
    steps = [0]

    def budget() -> int:
        steps[0] += 1
        return 1 if steps[0] > _SQL_STEPS // 1000 else 0

    try:
        conn.deserialize(database)
        kinds = dict(conn.execute("select name, type from sqlite_master where name in ('col', 'notes')").fetchall())
        if kinds != {"col": "table", "notes": "table"}:
            raise ValueError("its col and notes are not plain tables")
        conn.set_progress_handler(budget, 1000)
        models_json, decks_json = conn.execute("select models, decks from col").fetchone()
        rows = conn.execute("select guid, mid, flds, tags from notes order by id").fetchall()
    finally:
        conn.close()
    if not all(isinstance(v, str) for v in (models_json, decks_json)):
        raise TypeError("col.models and col.decks are not text")
    return models_json, decks_json, rows


def _record(shown: str, raw: bytes, models_json: str, decks_json: str, rows: list) -> dict:
    models = json.loads(models_json)
    decks = json.loads(decks_json)
    root: dict = next((d for d in decks.values() if "::" not in d["name"] and d["name"] != "Default"), {})
    desc = root.get("desc", "")
    version = re.search(r"Version ([0-9]+\.[0-9]+\.[0-9]+)", desc)
    released = re.search(r"released (\d{4}-\d{2}-\d{2})", desc)
    types, by_mid = [], {}
    for _, m in sorted(models.items()):
        fields = [str(f["name"]) for f in sorted(m["flds"], key=lambda f: f["ord"])]
        templates = [
            {"name": str(t["name"]), "qfmt": str(t.get("qfmt", "")), "afmt": str(t.get("afmt", ""))}
            for t in sorted(m["tmpls"], key=lambda t: t["ord"])
        ]
        mod = int(m["mod"]) if isinstance(m.get("mod"), int) else None
        types.append(_type_entry(int(m["id"]), str(m["name"]), fields, templates, str(m.get("css", "")), mod))
        by_mid[int(m["id"])] = (MODEL_KINDS.get(m["name"], "other"), fields)
    rows = [(str(g), int(mid), str(flds), str(tags)) for g, mid, flds, tags in rows]
    tags_all = [t for _, _, _, tags in rows for t in tags.split()]
    roots = sorted({t.split("::")[0] for t in tags_all if "::category::" in t})
    tag_root = roots[0] if roots else ""
    entries = []
    for guid, mid, flds, tags in rows:
        kind, fields = by_mid.get(mid, ("other", []))
        values = dict(zip(fields, flds.split("\x1f"), strict=False))
        entries.append(note_entry(kind, guid, values, tags.split(), tag_root))
    return {
        "format": FORMAT,
        "deck": {
            "slug": None,
            "title": str(root.get("name")) if root.get("name") is not None else None,
            "version": version.group(1) if version else None,
            "released": released.group(1) if released else None,
            "tag_root": tag_root,
        },
        "builder": {"name": "unknown", "version": None},
        "apkg": {"file": Path(shown).name, "sha256": hashlib.sha256(raw).hexdigest()},
        "build": None,
        "note_types": types,
        "notes": entries,
        "retired": [],
    }
