"""Stage 5: notes to .apkg bytes, deterministically, then one atomic write.

genanki's ``write_to_file`` stamps the clock, zips a temporary SQLite file that it never
deletes, and stores the zip uncompressed. We drive genanki's own SQL writer against an
in-memory database, serialise it, and zip it ourselves with fixed entry times and
deflate: the same sources give the same bytes, and nothing is left in /tmp.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import sqlite3
import tempfile
import warnings
import zipfile
from pathlib import Path

import genanki

from deckgen.errors import DeckgenError, Problem


def release_timestamp(released: dt.date) -> int:
    """Midnight UTC of the release date: later releases always carry newer times."""
    return int(dt.datetime(released.year, released.month, released.day, tzinfo=dt.timezone.utc).timestamp())


def apkg_bytes(decks: list[genanki.Deck], media: list[Path], released: dt.date) -> bytes:
    timestamp = release_timestamp(released)
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        with warnings.catch_warnings():
            # genanki warns on HTML it cannot parse with a regex; ours is sanitised already.
            warnings.simplefilter("ignore")
            package = genanki.Package(decks)
            package.write_to_db(cursor, timestamp, itertools.count(timestamp * 1000))
        conn.commit()
        database = conn.serialize()
    finally:
        conn.close()

    stamp = (released.year, released.month, released.day, 0, 0, 0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)

        put("collection.anki2", database)
        put("media", json.dumps({str(i): p.name for i, p in enumerate(media)}, sort_keys=True).encode("utf-8"))
        for i, path in enumerate(media):
            put(str(i), path.read_bytes())
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename: readers see old or new, never half."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DeckgenError(Problem(str(path.parent), None, f"cannot write here: {exc.strerror}; pass --out DIR with a writable folder")) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise DeckgenError(Problem(str(path), None, f"cannot write the file: {exc.strerror}; nothing was changed")) from None
