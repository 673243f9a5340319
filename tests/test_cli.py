"""cli.py: the commands a user types, their output and exit codes."""

from __future__ import annotations

from click.testing import CliRunner

from deckgen import __version__
from deckgen.cli import main
from tests.conftest import small_tree


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"deckgen, version {__version__}\n"


def test_build_prints_path_and_summary(tmp_path, monkeypatch):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    path, summary = result.output.splitlines()
    assert path == "build/test-deck-v1.0.0.apkg"
    assert summary.startswith("5 notes (3 scenarios, 2 buckets), 19 cards, 2 categories in ")
    assert (tmp_path / path).is_file()


def test_validate_ok(tmp_path, monkeypatch):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0 and result.output == "ok: 3 scenarios, 2 categories, 2 buckets\n"


def test_stats_shows_what_is_missing(tmp_path, monkeypatch):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["stats"]).output
    assert "  streaming-kafka       2 /    2  ok" in out
    assert "  pipeline-failures     1 /    1  ok" in out
    assert "  hard        1   33%" in out
    assert "  streaming       3 /    3" in out
    assert "  covered 0 of 6" in out and "0  typical: Lag explosion  <- none" in out


def test_new_writes_a_skeleton_that_validates(tmp_path, monkeypatch):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["new", "streaming-kafka", "broker-disk-full"])
    assert result.exit_code == 0 and result.output == "scenarios/streaming-kafka/broker-disk-full.yaml\n"
    text = (tmp_path / "scenarios/streaming-kafka/broker-disk-full.yaml").read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../deckgen/schema/scenario.schema.json\nid: broker-disk-full\n"
    )
    assert runner.invoke(main, ["validate"]).output == "ok: 4 scenarios, 2 categories, 2 buckets\n"

    again = runner.invoke(main, ["new", "streaming-kafka", "broker-disk-full"])
    assert again.exit_code == 1 and "id `broker-disk-full` is already used" in again.output
    assert runner.invoke(main, ["new", "nope", "x-y"]).exit_code == 2
    assert runner.invoke(main, ["new", "streaming-kafka", "Bad_Id"]).exit_code == 2
