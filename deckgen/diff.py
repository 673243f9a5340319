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

    report = Report(old, new, tuple(added), tuple(changed), tuple(retired), unchanged, (), tuple(notes))
    for side, record in (("OLD", old), ("NEW", new)):
        v, d = record["deck"].get("version"), record["deck"].get("released")
        if v is not None and _version(v) is None:
            problems.append(f"{side}'s version {v!r} is not MAJOR.MINOR.PATCH: the update check cannot be made")
        if d is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(d)):
            problems.append(f"{side}'s release date {d!r} is not YYYY-MM-DD: the update check cannot be made")
    if report.content_changed and not pending:
        ov, nv = _version(old["deck"].get("version")), _version(new["deck"].get("version"))
        if ov and nv and nv <= ov:
            problems.append(
                f"content changed but the version did not move forward ({old['deck']['version']} -> {new['deck']['version']}): bump `version` in deck.yaml"
            )
        od, nd = old["deck"].get("released"), new["deck"].get("released")
        if od and nd and nd <= od:
            problems.append(
                f"content changed but `released` did not move forward ({od} -> {nd}): Anki keeps the older copy of every edited note; set a later date in deck.yaml"
            )
    return Report(old, new, tuple(added), tuple(changed), tuple(retired), unchanged, tuple(problems), tuple(notes))


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
        lines.append(f"note: {note}")
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
