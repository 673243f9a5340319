"""A content-addressed cache of validated scenarios and their rendered fields.

A rebuild after editing one file should not pay for the other 9,999. Entries are keyed
by a hash of everything that shapes them (the file's bytes and path, deck.yaml, the
builder's version), so a stale entry is never found, only orphaned. It lives under the
output folder, holds plain JSON (nothing from it is ever executed), and is safe to delete.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import zlib
from pathlib import Path

from deckgen.model import Code, Reference, Scenario

FILE_NAME = "deckgen-cache-3.sqlite"  # the number changes whenever the entry format does


class Cache:
    """Entries from earlier builds; new ones are written as they come and kept on :meth:`save`."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / FILE_NAME
        self._db = None
        self._dirty = False
        self._created: list[Path] = []  # what to remove if this build is discarded
        self._used: set[str] = set()  # keys this build read or wrote; the rest may be orphans
        try:
            if self.path.is_file():
                self._open()
        except (sqlite3.Error, OSError):
            self._db = None  # a damaged cache is an empty cache

    def _open(self) -> None:
        for folder in reversed(self.path.parents):
            if not folder.exists():
                folder.mkdir()
                self._created.insert(0, folder)
        if not self.path.exists():
            self._created.insert(0, self.path)
        self._db = sqlite3.connect(self.path, isolation_level="DEFERRED")
        self._db.execute("create table if not exists entries (key text primary key, value blob not null)")

    def _get(self, k: str):
        if self._db is None:
            return None
        try:
            row = self._db.execute("select value from entries where key = ?", (k,)).fetchone()
            if row is None:
                return None
            self._used.add(k)
            return json.loads(zlib.decompress(row[0]))
        except (sqlite3.Error, zlib.error, TypeError, ValueError):
            return None  # unreadable entry: render again

    def _put(self, k: str, value) -> None:
        try:
            if self._db is None:
                self._open()
            self._db.execute(
                "insert or replace into entries values (?, ?)", (k, zlib.compress(json.dumps(value).encode(), 1))
            )
            self._used.add(k)
            self._dirty = True
        except (sqlite3.Error, OSError):
            self._db = None

    def scenario(self, k: str) -> tuple[Scenario, int] | None:
        data = self._get("s" + k)
        if data is None:
            return None
        try:
            s = data["scenario"]
            for name in (
                "buckets",
                "concepts",
                "immediate",
                "preventive",
                "communication",
                "pitfalls",
                "follow_ups",
                "media",
                "covers",
            ):
                s[name] = tuple(s[name])
            s["code"] = Code(**s["code"]) if s["code"] else None
            s["references"] = tuple(Reference(**r) for r in s["references"])
            return Scenario(**s), data["id_line"]
        except (KeyError, TypeError):
            return None

    def put_scenario(self, k: str, scenario: Scenario, id_line: int | None) -> None:
        self._put("s" + k, {"scenario": dataclasses.asdict(scenario), "id_line": id_line})

    def fields(self, k: str) -> tuple[str, ...] | None:
        data = self._get("f" + k)
        return tuple(data) if data is not None else None

    def put_fields(self, k: str, fields: tuple[str, ...]) -> None:
        self._put("f" + k, list(fields))

    def _prune(self) -> None:
        """Drop orphans (entries of edited or deleted files) once they outnumber live entries."""
        total = self._db.execute("select count(*) from entries").fetchone()[0]
        if total <= 2 * len(self._used) + 100:
            return
        self._db.execute("create temp table keep (key text primary key)")
        self._db.executemany("insert or ignore into keep values (?)", ((k,) for k in self._used))
        self._db.execute("delete from entries where key not in (select key from keep)")
        self._db.execute("drop table keep")
        self._dirty = True

    def discard(self) -> None:
        """Forget this run's entries and anything it created: a failed build writes nothing."""
        if self._db is not None:
            try:
                self._db.rollback()
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        for path in self._created:
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        self._created = []

    def save(self) -> None:
        """Keep what this build added, drop orphans; a cache that cannot be written is skipped."""
        if self._db is None:
            return
        try:
            self._prune()
            if not self._dirty:
                return
            self._db.commit()
            self._dirty = False
            self._created = []
        except sqlite3.Error:
            pass
