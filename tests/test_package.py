"""package.py: deterministic bytes, deflated, one atomic write, nothing left behind."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile

from deckgen import BuildOptions, DeckgenError, build, load_project
from deckgen.package import release_timestamp, write_atomic
from tests.conftest import cli_args, scenario, small_tree


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
    """Temporary files go beside the output (then are renamed or removed), never to the system's folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    seen: list[str] = []
    real = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", lambda *a, **k: seen.append(str(k.get("dir"))) or real(*a, **k))
    small_tree(tmp_path)
    build(load_project(tmp_path / "scenarios", tmp_path / "media"), BuildOptions(out_dir=tmp_path / "b"))
    assert seen and set(seen) == {str(tmp_path / "b")}  # the staging files were made in the output folder
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


# -- failing machines: real processes, real signals, real limits --------------------------------

import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from bench.generate import generate  # noqa: E402
from deckgen.cli import main  # noqa: E402
from tests.conftest import snapshot  # noqa: E402

DECKGEN = [sys.executable, "-m", "deckgen"]


def _build_command(tree: Path, out: Path) -> list[str]:
    """A cold build as a separate process: what kill -9 and file size limits act on."""
    return [*DECKGEN, *cli_args("build", tree, out, "--no-cache")]


def _wait(predicate, seconds: float = 60.0, step: float = 0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(step)
    return None


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory):
    return generate(2500, tmp_path_factory.mktemp("big"), seed=3)


def test_kill_9_leaves_temp_files_the_next_build_removes(tmp_path, big_tree):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _build_command(big_tree, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DECKGEN_JOBS": "1"},
    )
    temps = _wait(lambda: [p for p in out.glob(".*.tmp")] if out.is_dir() else None)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert temps, "the build never wrote a temporary file"
    assert list(out.glob(".*.tmp")), "kill -9 left nothing to clean: the test did not kill mid-write"
    mine = out / f".other.apkg.deckgen-{os.getpid()}.abcdefgh.tmp"  # a live build's file is never touched
    mine.write_bytes(b"in use")
    small_tree(tmp_path / "small")
    build(load_project(tmp_path / "small" / "scenarios", tmp_path / "small" / "media"), BuildOptions(out_dir=out))
    assert sorted(p.name for p in out.glob(".*.tmp")) == [mine.name]


def test_workers_die_with_a_killed_build(tmp_path, big_tree):
    proc = subprocess.Popen(
        _build_command(big_tree, tmp_path / "out"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DECKGEN_JOBS": "2"},
    )
    workers = _wait(lambda: _children(proc.pid))
    assert workers, "no worker process started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _wait(lambda: not any(_alive(w) for w in workers), seconds=10), "a worker outlived the killed build"
    proc.stdout.close()


def test_a_file_size_limit_is_a_clear_error_and_nothing_changes(tmp_path):
    small_tree(tmp_path)
    run = _build_command(tmp_path, tmp_path / "build")
    subprocess.run(run, check=True, capture_output=True)
    before = snapshot(tmp_path / "build")
    (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="hard").replace("Roll back", "Revert")
    )
    limited = subprocess.run(["bash", "-c", 'ulimit -f 24 && exec "$@"', "limit", *run], capture_output=True, text=True)
    assert limited.returncode == 1, limited.stderr
    assert "Traceback" not in limited.stderr
    apkg = tmp_path / "build" / "test-deck-v1.0.0.apkg"
    assert limited.stderr.strip().startswith(f"{apkg}: cannot write the package: ")
    assert limited.stderr.strip().endswith("; nothing was changed")
    assert snapshot(tmp_path / "build") == before  # no temporary file left either


def test_a_target_that_cannot_be_replaced_changes_nothing(tmp_path, monkeypatch):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(main, ["build"])
    manifest = tmp_path / "build" / "test-deck-v1.0.0.manifest.json"
    manifest.unlink()
    manifest.mkdir()  # something in the way of the manifest
    apkg_before = (tmp_path / "build" / "test-deck-v1.0.0.apkg").read_bytes()
    (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").read_text().replace("Roll back", "Revert")
    )
    before = snapshot(tmp_path / "build")
    result = CliRunner().invoke(main, ["build", "--no-cache"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == (
        "build/test-deck-v1.0.0.manifest.json: is a folder or a link, not a file deckgen "
        "wrote: move it away or pass --out DIR; nothing was changed"
    )
    assert (tmp_path / "build" / "test-deck-v1.0.0.apkg").read_bytes() == apkg_before
    assert snapshot(tmp_path / "build") == before


def test_commit_all_puts_back_what_it_moved_when_a_rename_fails(tmp_path, monkeypatch):
    from deckgen import package

    a, b = tmp_path / "a.apkg", tmp_path / "a.manifest.json"
    a.write_bytes(b"old package")
    b.write_bytes(b"old manifest")
    staged_a, staged_b = package.stage_bytes(a, b"new package"), package.stage_bytes(b, b"new manifest")
    real = os.replace
    calls = []

    def replace_then_fail(src, dst):
        calls.append(dst)
        if Path(dst) == b and len([c for c in calls if Path(c) == b]) == 1:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(package.os, "replace", replace_then_fail)
    with pytest.raises(DeckgenError):
        package.commit_all([(staged_a, a), (staged_b, b)])
    assert a.read_bytes() == b"old package" and b.read_bytes() == b"old manifest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.apkg", "a.manifest.json"]


def test_a_plain_build_never_replaces_a_released_file(tmp_path, monkeypatch):
    from deckgen.release import release

    small_tree(tmp_path)
    release(
        tmp_path / "scenarios", tmp_path / "media", tmp_path / "build", tmp_path / "releases", tmp_path / "CHANGELOG.md"
    )
    released = snapshot(tmp_path / "build")
    monkeypatch.chdir(tmp_path)
    same = CliRunner().invoke(main, ["build", "--no-cache"])  # the same bytes: nothing to do, the release record stays
    assert same.exit_code == 0 and snapshot(tmp_path / "build") == released
    (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").read_text().replace("Roll back", "Revert")
    )
    other = CliRunner().invoke(main, ["build", "--no-cache"])
    assert other.exit_code == 1 and isinstance(other.exception, SystemExit)
    assert other.output.startswith("build/test-deck-v1.0.0.apkg: is a released file")
    assert snapshot(tmp_path / "build") == released


def test_a_manifest_beside_another_package_is_refused_by_diff(tmp_path, monkeypatch):
    """A kill between the two renames can leave a new package beside an old manifest: diff must notice."""
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(main, ["build", "--no-cache", "--out", "one"])
    (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        (tmp_path / "scenarios/streaming-kafka/late-events-window.yaml").read_text().replace("Roll back", "Revert")
    )
    CliRunner().invoke(main, ["build", "--no-cache", "--out", "two"])
    shutil.copy(tmp_path / "two" / "test-deck-v1.0.0.apkg", tmp_path / "one" / "test-deck-v1.0.0.apkg")
    result = CliRunner().invoke(
        main, ["diff", "two/test-deck-v1.0.0.manifest.json", "one/test-deck-v1.0.0.manifest.json"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        "one/test-deck-v1.0.0.manifest.json: does not describe test-deck-v1.0.0.apkg "
        "beside it (an interrupted or hand-made build?): build again, or pass the .apkg"
    )
