"""Shared helpers: small source trees written from dicts, and real Anki imports."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent  # the project: its bundled deck, README and releases

DECK_YAML = """\
slug: test-deck
title: "Test Deck: Scenarios"
version: 1.0.0
released: 2026-01-10
description: |
  A *small* deck for tests.
categories:
  - slug: streaming-kafka
    title: Streaming / Kafka Incidents
    target: 2
  - slug: pipeline-failures
    title: Data Pipeline Failures
    target: 1
buckets:
  - slug: streaming
    title: Streaming / Real-Time
    triggers: ["Kafka lag increased"]
    typical: ["Lag explosion", "Duplicate events"]
    concepts: ["watermarks", "checkpointing"]
  - slug: batch-spark
    title: Batch / Spark Processing
    triggers: ["Daily job failed"]
    typical: ["Data skew"]
    concepts: ["salting"]
"""

SCENARIO_YAML = """\
id: {id}
title: Consumer lag explodes after a deploy
category: {category}
buckets: [streaming, batch-spark]
difficulty: {difficulty}
situation: |
  Twenty minutes after the 14:05 release, lag on the `orders` group passes 2M.
  Airflow's `{{{{ ds }}}}` shows in the logs and C++ `std::vector` too.
concepts:
  - consumer group rebalancing
  - max.poll.interval.ms
answer:
  immediate:
    - 'Check whether the group is stuck in a [[rebalance loop|symptom]]'
    - Roll back the release
  preventive:
    - 'Raise [[max.poll.interval.ms]] above the worst batch time'
  communication:
    - 'Tell the [[order-tracking team]] ETA 30 minutes, next update 15:00'
why: |
  Lag is a symptom; **rebalances** are the cause.
pitfalls:
  - Adding partitions mid-incident
follow_ups:
  - What changes with cooperative rebalancing?
"""


def scenario(
    id: str = "kafka-lag-after-deploy", category: str = "streaming-kafka", difficulty: str = "medium", **extra: str
) -> str:
    text = SCENARIO_YAML.format(id=id, category=category, difficulty=difficulty)
    for key, value in extra.items():
        text += f"{key}: {value}\n"
    return text


def cli_args(command: str, root: Path, out: Path, *extra: str) -> list[str]:
    """A deckgen command over the tree at ``root`` writing to ``out``: for CliRunner, or after
    ``python -m deckgen`` in a separate process."""
    return [command, "--scenarios", str(root / "scenarios"), "--media", str(root / "media"), "--out", str(out), *extra]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text}`` under ``root`` and return it (MkDocs' tempdir idea)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content) if content.startswith("\n") else content, encoding="utf-8")
    return root


def small_tree(root: Path, **overrides: str | bytes | None) -> Path:
    """deck.yaml plus three scenarios in two categories; ``overrides`` replace or drop files."""
    files: dict[str, str | bytes | None] = {
        "scenarios/deck.yaml": DECK_YAML,
        "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario(),
        "scenarios/streaming-kafka/late-events-window.yaml": scenario("late-events-window", difficulty="hard"),
        "scenarios/pipeline-failures/gzip-one-task.yaml": scenario("gzip-one-task", "pipeline-failures", "easy"),
    }
    files.update(overrides)
    (root / "media").mkdir(parents=True, exist_ok=True)
    return write_tree(root, {k: v for k, v in files.items() if v is not None})


@pytest.fixture(autouse=True)
def own_cache_key(tmp_path: Path, monkeypatch) -> None:
    """Every test's machine key for the render cache lives in its own folder, never in the
    developer's ~/.cache/deckgen (CLI and subprocess builds included: they inherit it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return small_tree(tmp_path)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its sha256: proof that nothing changed."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- real Anki ---------------------------------------------------------------------------


def new_collection(folder: Path):
    from anki.collection import Collection

    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_apkg(col, apkg: Path):
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(apkg),
        options=ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False),
    )
    return col.import_anki_package(request).log


@pytest.fixture
def collection(tmp_path: Path):
    col = new_collection(tmp_path / "anki")
    yield col
    col.close()
