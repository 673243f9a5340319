"""package.py: deterministic bytes, deflated, one atomic write, nothing left behind."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile

from deckgen import BuildOptions, build, load_project
from deckgen.package import release_timestamp, write_atomic
from tests.conftest import small_tree


def test_release_timestamp_is_midnight_utc():
    assert release_timestamp(dt.date(2026, 11, 22)) == 1795305600
    assert release_timestamp(dt.date(2026, 11, 23)) > release_timestamp(dt.date(2026, 11, 22))


def test_zip_is_deflated_with_fixed_times(tmp_path):
    small_tree(tmp_path)
    path = build(load_project(tmp_path / "scenarios", tmp_path / "media"), BuildOptions(out_dir=tmp_path / "b")).path
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["collection.anki2", "media"]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
        assert all(i.date_time == (2026, 1, 10, 0, 0, 0) for i in infos)
        assert infos[0].compress_size < infos[0].file_size / 3
        assert zf.read("media") == b"{}"


def test_no_temporary_files_are_left(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    small_tree(tmp_path)
    build(load_project(tmp_path / "scenarios", tmp_path / "media"), BuildOptions(out_dir=tmp_path / "b"))
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "test-deck-v1.0.0.apkg",
        "test-deck-v1.0.0.manifest.json",
    ]


def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "out" / "x.apkg"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["x.apkg"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"
