"""A content-addressed cache of validated scenarios and their rendered fields.

A rebuild after editing one file should not pay for the other 9,999. Entries are keyed
by a hash of everything that shapes them (the file's bytes and path, deck.yaml, the
builder's version and the versions of the libraries that render), so a stale entry is
never found, only orphaned. It lives under the output folder, holds plain JSON (nothing
from it is ever executed), and is safe to delete.

It is never trusted beyond what a cold build would make: every entry carries an HMAC
under a key kept outside the project (the user's cache folder), so a cache file that
came with a checkout, was damaged, or was edited by hand is just a miss, and entries of
the wrong shape are misses too. A cache that cannot be read or written (a corrupt page,
a read-only folder, a full disk, a symlink) is used as far as it works and then dropped
for the rest of the run: it never makes a build slower than a cold one, or fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import zlib
from pathlib import Path

from deckgen.charts import Annotation, Chart, Series
from deckgen.model import Code, Reference, Scenario

FILE_NAME = "deckgen-cache-4.sqlite"  # the number changes whenever the entry format does
_MAC = 32  # bytes of HMAC-SHA256 in front of every value
_TUPLES = (
    "buckets",
    "concepts",
    "immediate",
    "preventive",
    "communication",
    "pitfalls",
    "follow_ups",
    "media",
    "covers",
)


def _key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deckgen" / "cache-key"


def signing_key() -> bytes:
    """This machine's key for cache entries; a fresh one per process where none can be kept."""
    path = _key_file()
    try:
        if path.is_file() and not path.is_symlink():
            key = path.read_bytes()
            if len(key) == 32:
                return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
    except FileExistsError:  # another build made it a moment ago
        try:
            key = path.read_bytes()
            return key if len(key) == 32 else secrets.token_bytes(32)
        except OSError:
            return secrets.token_bytes(32)
    except OSError:
        return secrets.token_bytes(32)


def _chart(c: dict) -> Chart:
    return Chart(
        **{
            **c,
            "x_values": tuple(c["x_values"]),
            "series": tuple(Series(s["name"], tuple(s["values"])) for s in c["series"]),
            "annotations": tuple(Annotation(**a) for a in c["annotations"]),
        }
    )


def _connect(path: Path) -> sqlite3.Connection:
    # No waiting on another build's lock: a cache that is busy is skipped, not waited for.
    return sqlite3.connect(path, isolation_level="DEFERRED", timeout=0.2)


class Cache:
    """Entries from earlier builds; new ones are written as they come and kept on :meth:`save`."""

    def __init__(self, folder: Path, key: bytes | None = None):
        self.path = Path(folder) / FILE_NAME
        self._key = key if key is not None else signing_key()
        self._db: sqlite3.Connection | None = None
        self._broken = False  # once reading or writing failed, the rest of the run goes without
        self._dirty = False
        self._created: list[Path] = []  # what to remove if this build is discarded
        self._used: set[str] = set()  # keys this build read or wrote; the rest may be orphans
        if self._unsafe():
            self._broken = True
        elif self.path.is_file():
            self._guard(self._open)

    def _unsafe(self) -> bool:
        """A symlink anywhere on the way could lead the cache into another database: never follow one."""
        for p in (self.path, *self.path.parents[:3]):
            try:
                if p.is_symlink():
                    return True
            except OSError:
                return True
        return self.path.exists() and not self.path.is_file()

    def _guard(self, action, *args):
        """Run ``action``; on any database or file error drop the cache for this run (and release it)."""
        if self._broken:
            return None
        try:
            return action(*args)
        except (sqlite3.Error, OSError):
            self._drop()
            return None

    def _drop(self) -> None:
        self._broken = True
        if self._db is not None:
            try:
                self._db.rollback()
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def _open(self) -> None:
        for folder in reversed(self.path.parents):
            if not folder.exists():
                folder.mkdir()
                self._created.insert(0, folder)
        if not self.path.exists():
            self._created.insert(0, self.path)
        self._db = _connect(self.path)
        self._db.execute("create table if not exists entries (key text primary key, value blob not null)")

    def _connected(self) -> sqlite3.Connection:
        self._open()
        assert self._db is not None
        return self._db

    def _mac(self, k: str, payload: bytes) -> bytes:
        return hmac.new(self._key, k.encode() + b"\0" + payload, hashlib.sha256).digest()

    def _read(self, k: str):
        if self._db is None:
            return None
        row = self._db.execute("select value from entries where key = ?", (k,)).fetchone()
        if row is None or not isinstance(row[0], bytes) or len(row[0]) <= _MAC:
            return None
        mac, payload = row[0][:_MAC], row[0][_MAC:]
        if not hmac.compare_digest(mac, self._mac(k, payload)):
            return None  # not written by a build on this machine: a miss
        self._used.add(k)
        return json.loads(zlib.decompress(payload))

    def _get(self, k: str):
        try:
            return self._guard(self._read, k)
        except (zlib.error, ValueError, TypeError):
            return None  # unreadable entry: render again

    def _write(self, k: str, value) -> None:
        db = self._db if self._db is not None else self._connected()
        payload = zlib.compress(json.dumps(value).encode(), 1)
        db.execute("insert or replace into entries values (?, ?)", (k, self._mac(k, payload) + payload))
        self._used.add(k)
        self._dirty = True

    def _put(self, k: str, value) -> None:
        self._guard(self._write, k, value)

    def scenario(self, k: str) -> tuple[Scenario, int | None] | None:
        data = self._get("s" + k)
        if data is None:
            return None
        try:
            s = dict(data["scenario"])
            for name in _TUPLES:
                s[name] = tuple(s[name])
            s["code"] = Code(**s["code"]) if s["code"] else None
            s["references"] = tuple(Reference(**r) for r in s["references"])
            s["charts"] = tuple(_chart(c) for c in s["charts"])
            scenario = Scenario(**s)
            line = data["id_line"]
            if not all(isinstance(x, str) for name in _TUPLES for x in getattr(scenario, name)):
                return None
            return (scenario, line) if line is None or isinstance(line, int) else None
        except (KeyError, TypeError, ValueError):
            return None

    def put_scenario(self, k: str, scenario: Scenario, id_line: int | None) -> None:
        self._put("s" + k, {"scenario": dataclasses.asdict(scenario), "id_line": id_line})

    def fields(self, k: str, count: int) -> tuple[str, ...] | None:
        data = self._get("f" + k)
        if not isinstance(data, list) or len(data) != count or not all(isinstance(v, str) for v in data):
            return None
        return tuple(data)

    def put_fields(self, k: str, fields: tuple[str, ...]) -> None:
        self._put("f" + k, list(fields))

    def chart(self, k: str) -> str | None:
        data = self._get("c" + k)
        return data if isinstance(data, str) and data.startswith("<svg") else None

    def put_chart(self, k: str, svg: str) -> None:
        self._put("c" + k, svg)

    def _prune(self, db: sqlite3.Connection) -> None:
        """Drop orphans (entries of edited or deleted files) once they outnumber live entries."""
        total = db.execute("select count(*) from entries").fetchone()[0]
        if total <= 2 * len(self._used) + 100:
            return
        db.execute("create temp table keep (key text primary key)")
        db.executemany("insert or ignore into keep values (?)", ((k,) for k in self._used))
        db.execute("delete from entries where key not in (select key from keep)")
        db.execute("drop table keep")
        self._dirty = True

    def discard(self) -> None:
        """Forget this run's entries and anything it created: a failed build writes nothing."""
        self._drop()
        for path in self._created:
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else path.unlink()
        self._created = []

    def _commit(self) -> None:  # save() calls it only with a connection open
        db = self._db
        assert db is not None
        self._prune(db)
        if self._dirty:
            db.commit()
            self._dirty = False
        self._created = []

    def save(self) -> None:
        """Keep what this build added, drop orphans; a cache that cannot be written is skipped."""
        if self._db is not None:
            self._guard(self._commit)
        self._drop()  # release the file: nothing stays open after a build
