"""Stage 5: notes to .apkg bytes, deterministically, then one atomic write.

genanki's ``write_to_file`` stamps the clock, zips a temporary SQLite file that it never
deletes, and stores the zip uncompressed. We drive genanki's own SQL writers with the
release date as the clock, stream notes into a SQLite file beside the output, and zip it
ourselves with fixed entry times and deflate: the same sources give the same bytes, and
every temporary file is removed, whatever happens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from deckgen.errors import DeckgenError, Problem


def release_timestamp(released: dt.date) -> int:
    """Midnight UTC of the release date: later releases always carry newer times."""
    return int(dt.datetime(released.year, released.month, released.day, tzinfo=dt.timezone.utc).timestamp())


def stage_apkg(
    target: Path,
    decks: list[genanki.Deck],
    note_models: list[genanki.Model],
    notes: Iterable[tuple[int, genanki.Note]],
    media: dict[str, Path | bytes] | Callable[[], dict[str, Path | bytes]],
    released: dt.date,
    model_mtime: int | None = None,
) -> Path:
    """Write the package to a temporary file beside ``target`` and return its path.

    Notes are streamed into SQLite as they come, so a deck of 10,000 scenarios never sits
    in memory whole; the caller renames the file into place (:func:`commit`) or removes it.
    """
    target = Path(target)
    folder = _ensure_folder(target.parent)
    timestamp = release_timestamp(released)
    db_fd, db_path = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".sqlite.tmp", dir=folder)
    os.close(db_fd)
    zip_fd, zip_path = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=folder)
    try:
        conn = sqlite3.connect(db_path)
        try:
            conn.execute("pragma journal_mode = off")
            conn.execute("pragma synchronous = off")
            cursor = conn.cursor()
            ids = itertools.count(timestamp * 1000)
            with warnings.catch_warnings():
                # genanki warns on HTML its regex cannot parse; ours is sanitised already.
                warnings.simplefilter("ignore")
                cursor.executescript(APKG_SCHEMA)
                cursor.executescript(APKG_COL)
                for m in note_models:
                    decks[0].add_model(m)
                for d in decks:  # registers decks and note types; their note lists are empty
                    d.write_to_db(cursor, timestamp, ids)
                if model_mtime is not None:  # a TTS edition's note types are newer than the plain one's
                    (models_json,) = cursor.execute("select models from col").fetchone()
                    types = json.loads(models_json)
                    for m in types.values():
                        m["mod"] = model_mtime
                    cursor.execute("update col set models = ?", (json.dumps(types),))
                for deck_id, note in notes:
                    note.write_to_db(cursor, timestamp, deck_id, ids)
            conn.commit()
        finally:
            conn.close()
        stamp = (released.year, released.month, released.day, 0, 0, 0)
        with (
            os.fdopen(zip_fd, "wb") as fh,
            zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf,
        ):
            with open(db_path, "rb") as src, zf.open(_entry("collection.anki2", stamp), "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            if callable(media):  # work still under way (charts) is awaited only now
                media = media()
            names = sorted(media)
            zf.writestr(_entry("media", stamp), json.dumps({str(i): n for i, n in enumerate(names)}, sort_keys=True))
            for i, name in enumerate(names):
                source = media[name]
                zf.writestr(_entry(str(i), stamp), source if isinstance(source, bytes) else source.read_bytes())
        os.chmod(zip_path, 0o644)
        return Path(zip_path)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a file size limit, a vanished folder
        _unlink(zip_path)
        why = getattr(exc, "strerror", None) or str(exc)
        raise DeckgenError(
            Problem(str(target), None, f"cannot write the package: {why}; nothing was changed")
        ) from None
    except BaseException:
        _unlink(zip_path)
        raise
    finally:
        _unlink(db_path)


def _entry(name: str, stamp: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


def _unlink(path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


_TEMP = re.compile(r"^\..+\.deckgen-(\d+)\.[^.]+(?:\.sqlite)?\.tmp$")


def temp_prefix(target: Path) -> str:
    """Temporary files name the process that writes them, so a later build can tell them stale."""
    return f".{target.name}.deckgen-{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: Path) -> list[Path]:
    """Remove temporary files of builds that died (kill -9, power loss); never those of a live one."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m and not entry.is_symlink() and not _alive(int(m.group(1))):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)  # a preview's staging folder
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _ensure_folder(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise DeckgenError(
            Problem(str(folder), None, f"cannot write here: {exc.strerror}; pass --out DIR with a writable folder")
        ) from None
    clean_stale(folder)
    return folder


def commit(staged: Path, target: Path) -> None:
    """Move a staged file into place: readers see the old file or the new one, never half."""
    os.replace(staged, target)


def check_target(target: Path) -> None:
    """Refuse, before anything moves, a target that a rename could not replace."""
    target = Path(target)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise DeckgenError(
            Problem(
                str(target),
                None,
                "is a folder or a link, not a file deckgen wrote: move it away or pass --out DIR; nothing was changed",
            )
        )


def commit_all(pairs: list[tuple[Path, Path]]) -> None:
    """Move several staged files into place, all or none: on a failure the ones moved are put back."""
    for _, target in pairs:
        check_target(target)
    done: list[tuple[Path, Path | None]] = []  # (target, backup of what it replaced)
    try:
        for staged, target in pairs:
            backup = None
            if target.exists():  # keep the old file under a second name; the target itself never goes missing
                backup = target.parent / f"{temp_prefix(target)}{secrets.token_hex(4)}.tmp"
                try:
                    os.link(target, backup)
                except OSError:
                    shutil.copy2(target, backup)
            done.append((target, backup))
            os.replace(staged, target)
    except OSError as exc:
        for (staged, target), (_, backup) in reversed(list(zip(pairs, done, strict=False))):
            if backup is None:
                if not Path(staged).exists():  # it was moved in: take it out again
                    _unlink(target)
            elif target.exists() and os.path.samefile(backup, target):
                _unlink(backup)  # never replaced: the backup is a second name of the old file
            else:
                os.replace(backup, target)
        for staged, _ in pairs:
            _unlink(staged)
        raise DeckgenError(
            Problem(
                str(pairs[0][1]), None, f"cannot put the files in place: {exc.strerror or exc}; nothing was changed"
            )
        ) from None
    for _, backup in done:
        if backup is not None:
            _unlink(backup)


def discard(staged: Path) -> None:
    _unlink(staged)


def stage_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``target``; :func:`commit` moves it into place."""
    target = Path(target)
    folder = _ensure_folder(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
    except OSError as exc:
        _unlink(tmp)
        raise DeckgenError(
            Problem(str(target), None, f"cannot write the file: {exc.strerror}; nothing was changed")
        ) from None
    return Path(tmp)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename: readers see old or new, never half."""
    commit(stage_bytes(path, data), Path(path))
