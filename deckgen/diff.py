"""What a user importing NEW over OLD will see, and what would hurt them.

Anki matches notes by GUID, takes an update only when the incoming note is newer, and
copies a note type (skipping every existing note) when its field or template names
change. So a release must keep GUIDs, keep note type fingerprints, and move its version
and date forward whenever content changed. ``compare`` checks exactly that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Change:
    id: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Report:
    old: dict
    new: dict
    added: tuple[Change, ...] = ()
    changed: tuple[Change, ...] = ()
    retired: tuple[Change, ...] = ()
    unchanged: int = 0
    problems: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def content_changed(self) -> bool:
        return bool(self.added or self.changed or self.retired)


def _version(v: str | None) -> tuple[int, ...] | None:
    if not isinstance(v, str) or not re.fullmatch(r"\d+\.\d+\.\d+", v):
        return None
    return tuple(int(x) for x in v.split("."))


def _label(n: dict) -> str:
    return n["id"] if n["kind"] == "scenario" else f"bucket:{n['id']}"


def compare(old: dict, new: dict, pending: bool = False) -> Report:
    """``pending``: NEW is work in progress (a pull request), not a release, so its version
    and date need not have moved yet; `deckgen release` enforces them."""
    problems: list[str] = []
    notes: list[str] = []
    old_by_guid = {n["guid"]: n for n in old["notes"]}
    new_by_guid = {n["guid"]: n for n in new["notes"]}

    # Note types: same id or name must keep the same field and template names.
    old_types = {t["name"]: t for t in old.get("note_types", [])}
    for t in new.get("note_types", []):
        before = old_types.get(t["name"]) or next((o for o in old.get("note_types", []) if o["id"] == t["id"]), None)
        if before and before["fingerprint"] != t["fingerprint"]:
            problems.append(
                f"note type `{t['name']}` changed its field or template names "
                f"({before['fields']} {before['templates']} -> {t['fields']} {t['templates']}): "
                "Anki would copy the note type and skip every existing note; restore the names"
            )

    # GUIDs: one GUID, one note, forever.
    for guid, n in new_by_guid.items():
        o = old_by_guid.get(guid)
        if o and (o["kind"], o["id"]) != (n["kind"], n["id"]):
            problems.append(
                f"GUID {guid} was `{_label(o)}` and is now `{_label(n)}`: Anki would overwrite one note with another"
            )
    old_ids = {(n["kind"], n["id"]): n for n in old["notes"]}
    for n in new["notes"]:
        o = old_ids.get((n["kind"], n["id"]))
        if o and o["guid"] != n["guid"]:
            problems.append(
                f"`{_label(n)}` has a new GUID ({o['guid']} -> {n['guid']}): Anki would add a duplicate; was the deck slug changed?"
            )

    retired_old = {r["id"]: r for r in old.get("retired", [])}
    retired_new = {r["id"]: r for r in new.get("retired", [])}
    for n in new["notes"]:
        if n["kind"] == "scenario" and n["id"] in retired_old | retired_new:
            r = (retired_old | retired_new)[n["id"]]
            problems.append(f"`{n['id']}` was retired in {r['version']}: ids are never reused")

    added, changed, retired = [], [], []
    unchanged = 0
    for guid, n in new_by_guid.items():
        o = old_by_guid.get(guid)
        if o is None:
            added.append(Change(_label(n), n["kind"], n.get("category") or ""))
        elif o["hash"] != n["hash"]:
            sections = [k for k in n["sections"] if o["sections"].get(k) != n["sections"][k]]
            changed.append(Change(_label(n), n["kind"], ", ".join(sections)))
        else:
            unchanged += 1

    same_scope = (old.get("build") or {}).get("categories") == (new.get("build") or {}).get("categories") and (
        old.get("build") or {}
    ).get("difficulties") == (new.get("build") or {}).get("difficulties")
    for guid, o in old_by_guid.items():
        if guid in new_by_guid:
            continue
        if o["kind"] == "scenario" and o["id"] in retired_new:
            retired.append(Change(o["id"], "scenario", retired_new[o["id"]]["reason"]))
        elif not same_scope or old.get("build") is None or new.get("build") is None:
            notes.append(f"`{_label(o)}` is not in NEW (the two builds may keep different subsets)")
        else:
            problems.append(
                f"`{_label(o)}` is gone without a retirement: list it in scenarios/retired.yaml "
                "(id, version, reason) or restore its file"
            )

    notes += template_notes(old, new)
    switch = edition(old) != edition(new) and old.get("build") is not None and new.get("build") is not None
    same_release = (old["deck"].get("version"), old["deck"].get("released")) == (
        new["deck"].get("version"),
        new["deck"].get("released"),
    )
    explained: set[str] = set()  # what an edition switch of one release explains: not a content change
    if switch and same_release:
        explained, edition_notes = _edition_changes(old, new, added, changed)
        notes += edition_notes
    for side, record in (("OLD", old), ("NEW", new)):
        v, d = record["deck"].get("version"), record["deck"].get("released")
        if v is not None and _version(v) is None:
            problems.append(f"{side}'s version {v!r} is not MAJOR.MINOR.PATCH: the update check cannot be made")
        if d is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(d)):
            problems.append(f"{side}'s release date {d!r} is not YYYY-MM-DD: the update check cannot be made")
    unexplained = [c for c in (*added, *changed, *retired) if c.id not in explained]
    if unexplained and not pending:
        ov, nv = _version(old["deck"].get("version")), _version(new["deck"].get("version"))
        if ov and nv and nv <= ov:
            problems.append(
                f"content changed but the version did not move forward ({old['deck']['version']} -> {new['deck']['version']}): bump `version` in deck.yaml"
            )
        od, nd = old["deck"].get("released"), new["deck"].get("released")
        if od and nd and nd <= od:
            problems.append(
                f"content changed but `released` did not move forward ({od} -> {nd}): Anki keeps the older copy of "
                "every edited note; set a later date in deck.yaml"
            )
    return Report(old, new, tuple(added), tuple(changed), tuple(retired), unchanged, tuple(problems), tuple(notes))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def edition(record: dict) -> tuple:
    """Which edition of a release a manifest describes: its filters, peers or not, its TTS language."""
    build = record.get("build") or {}
    return (
        tuple(build.get("categories") or ()),
        tuple(build.get("difficulties") or ()),
        bool(build.get("for_peers")),
        build.get("tts"),
    )


def _edition_changes(old: dict, new: dict, added: list[Change], changed: list[Change]) -> tuple[set[str], list[str]]:
    """Two editions of one release: what importing NEW over OLD does, in Anki's terms."""
    explained: set[str] = set()
    out = []
    if edition(old)[:2] != edition(new)[:2]:
        if added:
            explained |= {c.id for c in added}
            out.append(
                f"NEW holds {_n(len(added), 'note')} OLD's subset left out: importing adds them, the rest stay "
                "as they are"
            )
        lists = [c for c in changed if c.kind == "bucket" and c.detail == "back"]
        if lists:
            explained |= {c.id for c in lists}
            out.append(
                f"the bucket notes list the scenarios each build holds ({_n(len(lists), 'list')} differ): at the "
                "same version Anki keeps the lists it has; the next release brings the whole deck's"
            )
    stories = [c for c in changed if c.kind == "scenario" and c.detail == "back"]
    peers_old, peers_new = edition(old)[2], edition(new)[2]
    if peers_old != peers_new and stories:
        explained |= {c.id for c in stories}
        which = "leaves out" if peers_new else "adds"
        out.append(
            f"NEW {which} the personal stories of {_n(len(stories), 'note')}, at the same version and date: importing it "
            "changes none of them (Anki keeps the copy it has); the next release's notes bring the difference"
        )
    return explained, out


def _mod(record: dict, t: dict) -> int | None:
    """A note type's modification time; for manifests that predate it, the release's midnight UTC."""
    if isinstance(t.get("mod"), int):
        return t["mod"]
    released = record["deck"].get("released")
    if not isinstance(released, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", released):
        return None
    import datetime as dt

    from deckgen.manifest import model_mtime

    return model_mtime(dt.date.fromisoformat(released), (record.get("build") or {}).get("tts"))


def _speaks(record: dict, t: dict) -> bool | None:
    if "speaks" in t:
        return bool(t["speaks"])
    build = record.get("build")
    return None if build is None else bool(build.get("tts"))


def template_notes(old: dict, new: dict) -> list[str]:
    """What importing NEW does to the card templates: Anki takes a note type's templates only if newer."""
    out = []
    olds = {t["name"]: t for t in old.get("note_types", [])}
    for t in new.get("note_types", []):
        o = olds.get(t["name"])
        if o is None or o.get("fingerprint") != t.get("fingerprint"):
            continue
        old_speaks, new_speaks = _speaks(old, o), _speaks(new, t)
        old_mod, new_mod = _mod(old, o), _mod(new, t)
        differ = (o.get("html") != t.get("html")) if "html" in o and "html" in t else old_speaks != new_speaks
        if not differ or old_mod is None or new_mod is None:
            continue
        takes = new_mod > old_mod
        name = f"`{t['name']}`"
        if old_speaks is False and new_speaks:
            out.append(
                f"{name}: NEW speaks (text-to-speech) and is newer, so cards start speaking; reviews are kept"
                if takes
                else f"warning: {name}: NEW speaks but is not newer than OLD, so Anki keeps OLD's "
                "silent templates: take the TTS file of this version or a later one"
            )
        elif old_speaks and new_speaks is False:
            out.append(
                f"warning: {name}: NEW is silent and newer, so cards stop speaking; listeners take the TTS file "
                "of each release"
                if takes
                else f"{name}: NEW is silent but not newer than OLD (the TTS edition "
                "of this release), so importing it changes nothing: cards keep speaking; to silence them, turn "
                "off automatic audio in the deck's options, or import the next plain release"
            )
        elif takes:
            out.append(f"{name}: the card templates change, and Anki takes them (NEW's note type is newer)")
        else:
            out.append(
                f"warning: {name}: the card templates differ but NEW's note type is not newer, so Anki keeps "
                "OLD's: the template change does not arrive"
            )
    return out


def format_report(report: Report) -> str:
    o, n = report.old["deck"], report.new["deck"]
    lines = [
        f"{o.get('title') or o.get('slug')}: {o.get('version')} ({o.get('released')}) -> {n.get('version')} ({n.get('released')})"
    ]
    for title, items, sign in (
        ("added", report.added, "+"),
        ("changed", report.changed, "~"),
        ("retired", report.retired, "-"),
    ):
        lines.append(f"{title}: {len(items)}")
        for c in sorted(items, key=lambda c: c.id):
            lines.append(f"  {sign} {c.id}" + (f"  ({c.detail})" if c.detail else ""))
    lines.append(f"unchanged: {report.unchanged}")
    for note in report.notes:
        lines.append(note if note.startswith("warning: ") else f"note: {note}")
    if report.problems:
        lines.append(f"problems: {len(report.problems)} (a user importing NEW over OLD would be hurt)")
        lines += [f"  ! {p}" for p in report.problems]
    else:
        lines.append("ok: importing NEW over OLD updates notes in place")
    return "\n".join(lines)


def changelog_body(report: Report, titles: dict[str, str]) -> str:
    """The Markdown a release adds to CHANGELOG.md and to the deck's overview screen."""
    out = []
    for c in sorted(report.added, key=lambda c: c.id):
        out.append(f"- Added: {titles.get(c.id, c.id)} (`{c.id}`)")
    for c in sorted(report.changed, key=lambda c: (c.kind != "scenario", c.id)):
        if c.kind == "bucket":
            slug = c.id.split(":", 1)[-1]
            out.append(f"- Updated the bucket note *{titles.get('bucket:' + slug, slug)}* ({c.detail})")
        else:
            out.append(f"- Changed: {titles.get(c.id, c.id)} (`{c.id}`: {c.detail})")
    for c in sorted(report.retired, key=lambda c: c.id):
        out.append(f"- Retired: `{c.id}`: {c.detail}")
    return "\n".join(out) or "- No content changes."
