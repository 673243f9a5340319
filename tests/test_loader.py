"""loader.py: YAML in, plain data with lines out, and nothing from input ever runs."""

from __future__ import annotations

import time
from pathlib import Path

from deckgen.loader import parse_document, read_tree
from tests.conftest import scenario, small_tree


def _parse(text: str | bytes):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return parse_document(Path("s/x.yaml"), raw, "s/x.yaml")


def test_lines_of_values_and_keys():
    doc, problems = _parse(scenario())
    assert not problems
    assert doc.line(("id",)) == 1
    assert doc.line(("answer", "immediate", 1)) == 15
    assert doc.key_line(("follow_ups",)) == 24
    assert doc.line(("answer", "nope", 3)) == doc.line(("answer",))


def test_bom_and_crlf_are_accepted():
    raw = b"\xef\xbb\xbf" + scenario().replace("\n", "\r\n").encode("utf-8")
    doc, problems = _parse(raw)
    assert not problems and doc.data["id"] == "kafka-lag-after-deploy"
    assert doc.data["situation"].startswith("Twenty minutes")
    assert "\r" not in doc.data["situation"]


def test_plain_scalars_keep_yaml_types():
    doc, _ = _parse("a: 1.0.0\nb: 2026-11-22\nc: 'on'\nd: on\ne: 3\n")
    assert doc.data == {"a": "1.0.0", "b": "2026-11-22", "c": "on", "d": True, "e": 3}


def test_python_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    doc, problems = _parse(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert doc is None and "not allowed" in problems[0].message
    assert not marker.exists()


def test_alias_bomb_fails_fast():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    start = time.perf_counter()
    doc, problems = _parse("\n".join(lines) + "\n")
    assert doc is None and problems[0].line == 1 and "anchor &a0" in problems[0].message
    assert time.perf_counter() - start < 2


def test_merge_keys_are_refused():
    doc, problems = _parse("a:\n  <<: {b: 1}\n")
    assert doc is None and problems[0].message.startswith("YAML merge keys")


def test_tree_is_read_in_sorted_order_and_ignores_hidden_files(tmp_path):
    small_tree(tmp_path, **{"scenarios/streaming-kafka/.draft.yaml": "junk: [", "scenarios/.git/x": "y"})
    tree = read_tree(tmp_path / "scenarios", "scenarios")
    assert not tree.problems
    assert [f.shown for f in tree.files] == [
        "scenarios/pipeline-failures/gzip-one-task.yaml",
        "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml",
        "scenarios/streaming-kafka/late-events-window.yaml",
    ]


def test_missing_folder(tmp_path):
    tree = read_tree(tmp_path / "nope", "nope")
    assert [str(p) for p in tree.problems] == [
        "nope: scenarios folder not found: pass --scenarios DIR or run in the repo root"
    ]
