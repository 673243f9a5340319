"""The table of bad input: each case a small tree and the exact line a user must see.

Every case runs through `deckgen validate` and `deckgen build`: exit 1, the message with
its path and line, no traceback, and the output folder byte-for-byte as it was.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from deckgen.cli import main
from tests.conftest import DECK_YAML, scenario, small_tree, snapshot

S = "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml"
SP = "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def replace(old: str, new: str, base: str | None = None) -> str:
    base = scenario() if base is None else base
    assert old in base, old
    return base.replace(old, new, 1)


def drop(key: str) -> str:
    lines = scenario().splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and (line.startswith(" ") or line.startswith("\t")):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


# (case id, files to override, expected output line)
CASES = [
    # --- YAML ---
    (
        "syntax",
        {S: replace("title: Consumer", "title: [Consumer")},
        f"{SP}:3: YAML syntax error: did not find expected ',' or ']'",
    ),
    (
        "tab",
        {S: replace("concepts:\n  - consumer", "concepts:\n\t- consumer")},
        f"{SP}:10: YAML syntax error: found character that cannot start any token; tabs cannot indent YAML: use spaces",
    ),
    (
        "duplicate key",
        {S: scenario() + "title: again\n"},
        f"{SP}:26: duplicate key 'title' (first at line 2): keep one",
    ),
    ("empty", {S: ""}, f"{SP}: file is empty: it should hold one mapping (see `deckgen new`)"),
    ("comments only", {S: "# nothing\n"}, f"{SP}: file is empty: it should hold one mapping (see `deckgen new`)"),
    ("a list", {S: "- a\n- b\n"}, f"{SP}: file holds a list, not a mapping of keys to values"),
    (
        "two documents",
        {S: scenario() + "---\nid: x\n"},
        f"{SP}:26: YAML syntax error: but found another document; the file holds several YAML documents (---): keep one",
    ),
    (
        "not utf-8",
        {S: scenario().replace("Twenty", "Tw\u00e9nty").encode("latin-1")},
        f"{SP}:7: file is not UTF-8: save it as UTF-8",
    ),
    (
        "binary",
        {S: b"\x89PNG\r\n\x1a\n\x00\x00"},
        f"{SP}: file is binary, not YAML text: scenario files are UTF-8 text",
    ),
    (
        "too large",
        {S: scenario() + "#" * (256 * 1024) + "\n"},
        f"{SP}: file is 262,976 bytes; the limit is 262,144 (256 KiB): split it or shorten it",
    ),
    (
        "python tag",
        {
            S: replace(
                "title: Consumer lag explodes after a deploy", "title: !!python/object/apply:os.system ['echo pwned']"
            )
        },
        f"{SP}:2: YAML tag !!python/object/apply:os.system is not allowed here",
    ),
    (
        "custom tag",
        {S: replace("difficulty: medium", "difficulty: !lvl medium")},
        f"{SP}:5: YAML tag !lvl is not allowed: only plain text, numbers, true/false, lists and mappings",
    ),
    (
        "anchor",
        {S: replace("title: Consumer", "title: &t Consumer")},
        f"{SP}:2: YAML anchor &t is not allowed: write the value out",
    ),
    (
        "alias bomb",
        {
            S: "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        },
        f"{SP}:1: YAML anchor &a is not allowed: write the value out",
    ),
    (
        "bullet starts with [[",
        {
            S: replace(
                "    - 'Raise [[max.poll.interval.ms]] above the worst batch time'",
                "    - [[max.poll.interval.ms]] above the worst batch time",
            )
        },
        f"{SP}:17: YAML syntax error: did not find expected '-' indicator; a text that starts with [[ must be quoted: '[[phrase]] rest of the bullet'",
    ),
    (
        "bullet is a flow list",
        {
            S: replace(
                "    - 'Raise [[max.poll.interval.ms]] above the worst batch time'", "    - [[max.poll.interval.ms]]"
            )
        },
        f"{SP}:17: answer.preventive[1]: expected text, got a list: text that starts with [ must be quoted ('[[phrase]] rest')",
    ),
    (
        "bullet with colon",
        {S: replace("    - Roll back the release", "    - Roll back: the release")},
        f"{SP}:15: answer.immediate[2]: expected text, got a mapping: text holding ': ' must be quoted ('key: value')",
    ),
    (
        "unquoted no",
        {S: replace("  - consumer group rebalancing", "  - no")},
        f"{SP}:10: concepts[1]: expected text, got true/false: YAML reads unquoted yes/no/on/off/true/false as true/false; put the text in quotes",
    ),
    (
        "double-quoted backslash",
        {S: replace("    - Roll back the release", '    - "[[a \\| b]]"')},
        f"{SP}:15: YAML syntax error: found unknown escape character; inside double quotes a backslash starts an escape: use single quotes ('a \\| b')",
    ),
    # --- schema ---
    (
        "unknown key",
        {S: replace("follow_ups:", "follow-ups:")},
        f"{SP}:24: follow-ups: unknown key `follow-ups`: did you mean `follow_ups`?",
    ),
    (
        "unknown answer key",
        {S: replace("  preventive:", "  prevent:")},
        f"{SP}:16: answer.prevent: unknown key `prevent`: did you mean `preventive`?",
    ),
    ("missing title", {S: drop("title")}, f"{SP}:1: missing required key `title`"),
    (
        "missing answer section",
        {
            S: replace(
                "  communication:\n    - 'Tell the [[order-tracking team]] ETA 30 minutes, next update 15:00'\n", ""
            )
        },
        f"{SP}:13: answer: missing required key `communication`",
    ),
    (
        "empty answer section",
        {
            S: replace(
                "  communication:\n    - 'Tell the [[order-tracking team]] ETA 30 minutes, next update 15:00'\n",
                "  communication: []\n",
            )
        },
        f"{SP}:18: answer.communication: has 0 items; at least 1 allowed",
    ),
    (
        "bad difficulty",
        {S: scenario(difficulty="extreme")},
        f"{SP}:5: difficulty: 'extreme' is not one of easy | medium | hard",
    ),
    (
        "one concept",
        {S: replace("  - max.poll.interval.ms\n", "")},
        f"{SP}:10: concepts: has 1 item; at least 2 allowed",
    ),
    (
        "four buckets",
        {S: replace("buckets: [streaming, batch-spark]", "buckets: [streaming, batch-spark, a, b]")},
        f"{SP}:4: buckets: has 4 items; at most 3 allowed",
    ),
    (
        "bad id form",
        {S: replace("id: kafka-lag-after-deploy", "id: Kafka_Lag")},
        f"{SP}:1: id: 'Kafka_Lag' is not valid: expected lower-case letters, digits and single hyphens (like kafka-lag-after-deploy)",
    ),
    (
        "title is a number",
        {S: replace("title: Consumer lag explodes after a deploy", "title: 42")},
        f"{SP}:2: title: expected text, got a number",
    ),
    ("added is a float", {S: scenario(added="1.0")}, f"{SP}:26: added: expected text, got a number"),
    (
        "added malformed",
        {S: scenario(added="'1.0'")},
        f"{SP}:26: added: '1.0' is not valid: expected a version MAJOR.MINOR.PATCH, like 1.2.0",
    ),
    (
        "situation null",
        {S: replace("situation: |\n  Twenty", "situation:\nxx: |\n  Twenty")},
        f"{SP}:6: situation: expected text, got nothing: write the text after the key, or remove the key",
    ),
    # --- meaning ---
    (
        "id != file",
        {S: replace("id: kafka-lag-after-deploy", "id: kafka-lag")},
        f"{SP}:1: id: `kafka-lag` must equal the file name `kafka-lag-after-deploy`: rename the file or fix the id (ids never change once released)",
    ),
    (
        "duplicate id",
        {"scenarios/pipeline-failures/kafka-lag-after-deploy.yaml": scenario(category="pipeline-failures")},
        "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml:1: id: `kafka-lag-after-deploy` is already used by "
        "scenarios/pipeline-failures/kafka-lag-after-deploy.yaml: ids are unique in the deck",
    ),
    (
        "category != folder",
        {S: replace("category: streaming-kafka", "category: pipeline-failures")},
        f"{SP}:3: category: `pipeline-failures` does not match the folder `streaming-kafka`: move the file or fix the category",
    ),
    (
        "unknown category",
        {"scenarios/streaming/x-y.yaml": scenario("x-y", category="streaming")},
        "scenarios/streaming/x-y.yaml:3: category: `streaming` is not in deck.yaml: did you mean `streaming-kafka`?",
    ),
    (
        "unknown bucket",
        {S: replace("buckets: [streaming, batch-spark]", "buckets: [streeming]")},
        f"{SP}:4: buckets[1]: `streeming` is not a bucket in deck.yaml: did you mean `streaming`?",
    ),
    (
        "unclosed marker",
        {S: replace("[[rebalance loop|symptom]]", "[[rebalance loop")},
        f"{SP}:14: answer.immediate[1]: unclosed [[ marker: close it with ]]",
    ),
    (
        "empty marker",
        {S: replace("[[rebalance loop|symptom]]", "[[ ]]")},
        f"{SP}:14: answer.immediate[1]: empty [[ ]] marker: put the key phrase inside it, or remove it",
    ),
    (
        "nested marker",
        {S: replace("[[rebalance loop|symptom]]", "[[a [[b]] c]]")},
        f"{SP}:14: answer.immediate[1]: a [[ marker inside another one: markers cannot nest",
    ),
    (
        "stray closer",
        {S: replace("[[rebalance loop|symptom]]", "rebalance loop]]")},
        f"{SP}:14: answer.immediate[1]: ]] without an opening [[: add the [[ or write the brackets as \\]\\]",
    ),
    (
        "unknown lexer",
        {S: scenario(code="{lang: klingon, source: x}")},
        f"{SP}:26: code.lang: `klingon` is not a Pygments language: try python, sql, scala, yaml, properties, bash, json",
    ),
    (
        "media missing",
        {S: scenario(media="[nope.png]")},
        f"{SP}:26: media[1]: `nope.png` is not in media/: add the file or fix the name",
    ),
    (
        "media traversal",
        {S: scenario(media="['../secret.png']")},
        f"{SP}:26: media[1]: '../secret.png' is not valid: expected a file name directly in media/ ending .png, .jpg, .jpeg, .gif, .svg or .webp (no folders)",
    ),
    (
        "media absolute",
        {S: scenario(media="['/etc/passwd']")},
        f"{SP}:26: media[1]: '/etc/passwd' is not valid: expected a file name directly in media/ ending .png, .jpg, .jpeg, .gif, .svg or .webp (no folders)",
    ),
    (
        "media wrong type",
        {S: scenario(media="[clip.mp4]")},
        f"{SP}:26: media[1]: 'clip.mp4' is not valid: expected a file name directly in media/ ending .png, .jpg, .jpeg, .gif, .svg or .webp (no folders)",
    ),
    (
        "media lies",
        {S: scenario(media="[fake.png]"), "media/fake.png": b"GIF89a not a png"},
        f"{SP}:26: media[1]: `fake.png` is not a PNG image, whatever its name says",
    ),
    (
        "media too big",
        {S: scenario(media="[big.png]"), "media/big.png": PNG + b"\x00" * (2 * 1024 * 1024)},
        f"{SP}:26: media[1]: `big.png` is 2,097,176 bytes; the limit is 2,097,152 (2 MiB): shrink it",
    ),
    (
        "yml extension",
        {"scenarios/streaming-kafka/other.yml": scenario("other")},
        "scenarios/streaming-kafka/other.yml: not a scenario file: rename it to other.yaml",
    ),
    # --- hostile names and media ---
    (
        "windows device id",
        {"scenarios/streaming-kafka/con.yaml": scenario("con")},
        "scenarios/streaming-kafka/con.yaml:1: id: `con` is a device name on Windows, where `con.yaml` cannot exist: "
        "choose another id",
    ),
    (
        "windows device category",
        {"scenarios/deck.yaml": DECK_YAML.replace("slug: pipeline-failures", "slug: aux")},
        "scenarios/deck.yaml:11: categories[2].slug: `aux` is a device name on Windows, where that folder cannot "
        "exist: choose another",
    ),
    (
        "svg with a script",
        {
            S: scenario(media="[x.svg]"),
            "media/x.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        },
        f"{SP}:26: media[1]: `x.svg` holds a <script> element: media must be plain pictures (an SVG opened on its own "
        "runs its scripts)",
    ),
    (
        "svg loading a remote image",
        {
            S: scenario(media="[x.svg]"),
            "media/x.svg": b'<svg xmlns="http://www.w3.org/2000/svg" '
            b'xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="https://evil.example/p.png"/></svg>',
        },
        f"{SP}:26: media[1]: `x.svg` refers outside itself (href='https://evil.example/p.png'): media must be plain "
        "pictures (an SVG opened on its own runs its scripts)",
    ),
    (
        "svg with a handler",
        {S: scenario(media="[x.svg]"), "media/x.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'},
        f"{SP}:26: media[1]: `x.svg` holds an event handler (onload): media must be plain pictures (an SVG opened on its own runs its scripts)",
    ),
    (
        "svg with entities",
        {S: scenario(media="[x.svg]"), "media/x.svg": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg/>'},
        f"{SP}:26: media[1]: `x.svg` declares a DOCTYPE or entities: media must be plain pictures (an SVG opened on its own runs its scripts)",
    ),
    # --- references ---
    (
        "reference not https",
        {S: scenario(references="[{title: Docs, url: 'http://example.com/a'}]")},
        f"{SP}:26: references[1].url: 'http://example.com/a' is not valid: expected an https:// address of the page "
        "you read (no other schemes, no spaces or quotes)",
    ),
    (
        "reference javascript",
        {S: scenario(references="[{title: Docs, url: 'javascript:alert(1)//https://x.io'}]")},
        f"{SP}:26: references[1].url: 'javascript:alert(1)//https://x.io' is not valid: expected an https:// address "
        "of the page you read (no other schemes, no spaces or quotes)",
    ),
    (
        "reference quote breaks out",
        {S: scenario(references="[{title: Docs, url: 'https://x.io/\" onclick=\"alert(1)'}]")},
        f"{SP}:26: references[1].url: 'https://x.io/\" onclick=\"alert(1)' is not valid: expected an https:// address "
        "of the page you read (no other schemes, no spaces or quotes)",
    ),
    (
        "reference without host",
        {S: scenario(references="[{title: Docs, url: 'https://intranet/wiki/page'}]")},
        f"{SP}:26: references[1].url: `https://intranet/wiki/page` names no host: write the whole address, "
        "https://host/path",
    ),
    (
        "reference with a password",
        {S: scenario(references="[{title: Docs, url: 'https://me:secret@example.com/doc'}]")},
        f"{SP}:26: references[1].url: `https://me:secret@example.com/doc` holds a user name or password: link to "
        "the public page",
    ),
    (
        "reference without title",
        {S: scenario(references="[{url: 'https://example.com/doc'}]")},
        f"{SP}:26: references[1]: missing required key `title`",
    ),
    (
        "four references",
        {
            S: scenario(
                references="[" + ", ".join(f"{{title: T{i}, url: 'https://example.com/{i}'}}" for i in range(4)) + "]"
            )
        },
        f"{SP}:26: references: has 4 items; at most 3 allowed",
    ),
    # --- deck.yaml ---
    (
        "deck missing",
        {"scenarios/deck.yaml": None},
        "scenarios/deck.yaml: deck.yaml is missing: the deck's name, version and taxonomy live there",
    ),
    (
        "deck bad version",
        {"scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", "version: 1.0")},
        "scenarios/deck.yaml:3: version: expected text, got a number",
    ),
    (
        "deck bad date",
        {"scenarios/deck.yaml": DECK_YAML.replace("released: 2026-01-10", "released: 2026-02-30")},
        "scenarios/deck.yaml:4: released: 2026-02-30 is not a real date",
    ),
    (
        "deck duplicate category",
        {"scenarios/deck.yaml": DECK_YAML.replace("slug: pipeline-failures", "slug: streaming-kafka")},
        "scenarios/deck.yaml:11: categories[2].slug: `streaming-kafka` is already used by categories[1]",
    ),
    (
        "deck title with ::",
        {"scenarios/deck.yaml": DECK_YAML.replace('title: "Test Deck: Scenarios"', 'title: "Test::Deck"')},
        "scenarios/deck.yaml:2: title: `Test::Deck` holds ::, which Anki reads as a deck separator or drops: a deck "
        "name is one line without '::'",
    ),
    (
        "category title with ::",
        {"scenarios/deck.yaml": DECK_YAML.replace("title: Data Pipeline Failures", "title: 'Pipelines::Batch'")},
        "scenarios/deck.yaml:12: categories[2].title: `Pipelines::Batch` holds ::, which Anki reads as a deck "
        "separator or drops: a deck name is one line without '::'",
    ),
    (
        "category title with a tab",
        {"scenarios/deck.yaml": DECK_YAML.replace("title: Data Pipeline Failures", 'title: "Data\\tPipelines"')},
        "scenarios/deck.yaml:12: categories[2].title: `Data\tPipelines` holds a tab or line break, which Anki reads as "
        "a deck separator or drops: a deck name is one line without '::'",
    ),
    (
        "deck no buckets",
        {"scenarios/deck.yaml": DECK_YAML[: DECK_YAML.index("buckets:")] + "buckets: []\n"},
        "scenarios/deck.yaml:14: buckets: has 0 items; at least 1 allowed",
    ),
]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("files,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_and_nothing_is_written(tmp_path, monkeypatch, runner, files, expected):
    small_tree(tmp_path, **files)
    monkeypatch.chdir(tmp_path)
    earlier = tmp_path / "build" / "test-deck-v1.0.0.apkg"
    earlier.parent.mkdir()
    earlier.write_bytes(b"an earlier build")
    before = snapshot(tmp_path / "build")

    for args in (["validate"], ["build"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)  # no traceback
        lines = result.output.splitlines()
        assert expected in lines, result.output  # the whole line a user reads
        assert "Traceback" not in result.output and not result.output.startswith("Error:")
    assert snapshot(tmp_path / "build") == before


def test_every_problem_in_one_run(tmp_path, monkeypatch, runner):
    small_tree(
        tmp_path,
        **{
            S: replace("difficulty: medium", "difficulty: extreme"),
            "scenarios/pipeline-failures/gzip-one-task.yaml": scenario("gzip-one-task", "pipeline-failures").replace(
                "follow_ups:", "folow_ups:"
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "scenarios/pipeline-failures/gzip-one-task.yaml:24: folow_ups: unknown key `folow_ups`: did you mean `follow_ups`?",
        f"{SP}:5: difficulty: 'extreme' is not one of easy | medium | hard",
    ]


def test_symlink_out_of_media_is_refused(tmp_path, monkeypatch, runner):
    outside = tmp_path / "secret.png"
    outside.write_bytes(PNG)
    small_tree(tmp_path, **{S: scenario(media="[link.png]")})
    (tmp_path / "media" / "link.png").symlink_to(outside)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 1
    assert (
        f"{SP}:26: media[1]: `link.png` is a link that leads out of media/: copy the file in instead"
        in result.output.splitlines()
    )
    assert not (tmp_path / "build").exists()


def test_unwritable_output_is_a_clear_error(tmp_path, monkeypatch, runner):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocked").write_text("a file where the folder should be")
    result = runner.invoke(main, ["build", "--out", "blocked/sub"])
    assert result.exit_code == 1
    assert result.output.startswith("blocked/sub: cannot write here:")
    assert isinstance(result.exception, SystemExit)


def test_usage_errors_exit_2(tmp_path, monkeypatch, runner):
    small_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(main, ["build", "--difficulty", "extreme"]).exit_code == 2
    result = runner.invoke(main, ["build", "--category", "nope"])
    assert result.exit_code == 2 and "`nope` is not a category in deck.yaml" in result.output
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2
    assert not (tmp_path / "build").exists()


# -- schema: every required field missing in turn, every wrong type --------------------------

REQUIRED = {  # key -> (line of the mapping that should hold it, shown path prefix)
    "id": 1,
    "title": 1,
    "category": 1,
    "buckets": 1,
    "difficulty": 1,
    "situation": 1,
    "concepts": 1,
    "answer": 1,
}


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_each_required_key_missing_in_turn(tmp_path, monkeypatch, runner, key):
    small_tree(tmp_path, **{S: drop(key)})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert f"{SP}:1: missing required key `{key}`" in result.output.splitlines()


@pytest.mark.parametrize("section,line", [("immediate", 13), ("preventive", 13), ("communication", 13)])
def test_each_answer_section_missing_in_turn(tmp_path, monkeypatch, runner, section, line):
    text = scenario()
    start = text.index(f"  {section}:\n")
    end = start + len(f"  {section}:\n")
    while text[end:].startswith("    - "):
        end = text.index("\n", end) + 1
    small_tree(tmp_path, **{S: text[:start] + text[end:]})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert f"{SP}:{line}: answer: missing required key `{section}`" in result.output.splitlines()


WRONG_TYPES = [
    ("id: kafka-lag-after-deploy", "id: [kafka]", "1: id: expected text, got a list"),
    ("title: Consumer lag explodes after a deploy", "title: {a: b}", "2: title: expected text, got a mapping"),
    ("category: streaming-kafka", "category: 7", "3: category: expected text, got a number"),
    ("buckets: [streaming, batch-spark]", "buckets: streaming", "4: buckets: expected a list, got plain text"),
    ("buckets: [streaming, batch-spark]", "buckets: [streaming, 3]", "4: buckets[2]: expected text, got a number"),
    ("difficulty: medium", "difficulty: 2", "5: difficulty: 2 is not one of easy | medium | hard"),
    (
        "concepts:\n  - consumer group rebalancing\n  - max.poll.interval.ms",
        "concepts: rebalancing",
        "9: concepts: expected a list, got plain text",
    ),
    ("answer:\n", "answer: now\nx:\n", "12: answer: expected a mapping, got plain text"),
    ("  immediate:\n", "  immediate: do it\n  x:\n", "13: answer.immediate: expected a list, got plain text"),
    (
        "pitfalls:\n  - Adding partitions mid-incident",
        "pitfalls: Adding partitions",
        "22: pitfalls: expected a list, got plain text",
    ),
    (
        "follow_ups:\n  - What changes with cooperative rebalancing?",
        "follow_ups: {q: a}",
        "24: follow_ups: expected a list, got a mapping",
    ),
    ("why: |\n  Lag is a symptom; **rebalances** are the cause.", "why: [a]", "20: why: expected text, got a list"),
]


@pytest.mark.parametrize(
    "old,new,expected", WRONG_TYPES, ids=[w[2].split(":")[1].strip() + "-" + str(i) for i, w in enumerate(WRONG_TYPES)]
)
def test_each_wrong_type(tmp_path, monkeypatch, runner, old, new, expected):
    small_tree(tmp_path, **{S: replace(old, new)})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert any(line.startswith(f"{SP}:{expected}") for line in result.output.splitlines()), result.output


@pytest.mark.parametrize(
    "optional,value,expected",
    [
        ("code", "x", "26: code: expected a mapping, got plain text"),
        ("code", "{lang: sql}", "26: code: missing required key `source`"),
        ("media", "cat.png", "26: media: expected a list, got plain text"),
        ("story", "[a]", "26: story: expected text, got a list"),
        ("covers", "[Lag explosion, nope]", "26: covers[2]: `nope` is not a typical scenario or concept in deck.yaml"),
        ("added", "yesterday", "26: added: 'yesterday' is not valid: expected a version MAJOR.MINOR.PATCH"),
    ],
)
def test_optional_fields_are_checked_too(tmp_path, monkeypatch, runner, optional, value, expected):
    small_tree(tmp_path, **{S: scenario(**{optional: value})})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert any(line.startswith(f"{SP}:{expected}") for line in result.output.splitlines()), result.output


@pytest.mark.parametrize("word", ["NO", "on", "yes", "Off", "true"])
def test_unquoted_yaml_booleans(tmp_path, monkeypatch, runner, word):
    small_tree(tmp_path, **{S: replace("    - Roll back the release", f"    - {word}")})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert (
        f"{SP}:15: answer.immediate[2]: expected text, got true/false: YAML reads unquoted yes/no/on/off/true/false as true/false; put the text in quotes"
        in result.output.splitlines()
    )


@pytest.mark.parametrize(
    "value,expected",
    [
        ("22-11-2026", "released: '22-11-2026' is not valid: expected a date YYYY-MM-DD"),
        ("2026-13-01", "released: 2026-13-01 is not a real date"),
        ("tomorrow", "released: 'tomorrow' is not valid: expected a date YYYY-MM-DD"),
    ],
)
def test_invalid_dates(tmp_path, monkeypatch, runner, value, expected):
    small_tree(tmp_path, **{"scenarios/deck.yaml": DECK_YAML.replace("released: 2026-01-10", f"released: {value}")})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert f"scenarios/deck.yaml:4: {expected}" in result.output.splitlines()


def test_markdown_that_would_take_seconds_is_refused(tmp_path, monkeypatch, runner):
    small_tree(tmp_path, **{S: replace("why: |\n  Lag", "why: |\n  " + "![" * 400 + " Lag")})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1
    assert (
        f"{SP}:20: why: holds 400 '[' characters; the limit is 300 (Markdown slows down badly past it): move data into `code`"
        in result.output.splitlines()
    )


# Every text a scenario or deck.yaml can hold, with a YAML escape for a control character in it.
# Anki joins fields with \x1f: one of them in any field made it refuse the whole package.
CONTROL_CASES = [
    ("title", S, "title: Consumer lag explodes after a deploy", 'title: "Consumer\\x1f lag"', 2, "title"),
    (
        "situation",
        S,
        "situation: |\n  Twenty minutes",
        'situation: "Twenty\\x1f minutes"\nxx: |\n  Twenty',
        6,
        "situation",
    ),
    ("concept", S, "  - consumer group rebalancing", '  - "consumer\\x1f group"', 10, "concepts[1]"),
    ("bullet", S, "    - Roll back the release", '    - "Roll back\\x1f the release"', 15, "answer.immediate[2]"),
    ("why", S, "why: |\n  Lag is a symptom", 'why: "Lag\\x1f"\nxx: |\n  Lag is a symptom', 20, "why"),
    ("pitfall", S, "  - Adding partitions mid-incident", '  - "Adding\\x1f partitions"', 23, "pitfalls[1]"),
    ("follow-up", S, "  - What changes with cooperative rebalancing?", '  - "What\\x1f changes?"', 25, "follow_ups[1]"),
    ("NUL", S, "    - Roll back the release", '    - "Roll back\\0 the release"', 15, "answer.immediate[2]"),
    (
        "line separator",
        S,
        "    - Roll back the release",
        '    - "Roll back\\u2028 the release"',
        15,
        "answer.immediate[2]",
    ),
    (
        "escape char",
        S,
        "    - Roll back the release",
        '    - "Roll back\\e[31m the release"',
        15,
        "answer.immediate[2]",
    ),
    ("key", S, "follow_ups:", '"follow\\x1fups":', 24, ""),
    ("deck title", "scenarios/deck.yaml", 'title: "Test Deck: Scenarios"', 'title: "Test\\x1f Deck"', 2, "title"),
    (
        "category title",
        "scenarios/deck.yaml",
        "title: Streaming / Kafka Incidents",
        'title: "Streaming\\x1f"',
        9,
        "categories[1].title",
    ),
    (
        "bucket trigger",
        "scenarios/deck.yaml",
        'triggers: ["Kafka lag increased"]',
        'triggers: ["Kafka\\x1f lag"]',
        17,
        "buckets[1].triggers[1]",
    ),
    (
        "description",
        "scenarios/deck.yaml",
        "description: |\n  A *small* deck for tests.",
        'description: "A\\x1f deck."',
        5,
        "description",
    ),
]


@pytest.mark.parametrize("path,old,new,line,where", [c[1:] for c in CONTROL_CASES], ids=[c[0] for c in CONTROL_CASES])
def test_control_characters_are_refused_in_every_field(tmp_path, monkeypatch, runner, path, old, new, line, where):
    base = DECK_YAML if path.endswith("deck.yaml") else scenario()
    text = base.replace(old, new, 1)  # a block scalar cannot hold an escape: the text becomes a quoted one
    assert text != base, old
    small_tree(tmp_path, **{path: text})
    monkeypatch.chdir(tmp_path)
    earlier = tmp_path / "build" / "test-deck-v1.0.0.apkg"
    earlier.parent.mkdir()
    earlier.write_bytes(b"an earlier build")
    before = snapshot(tmp_path / "build")
    for args in (["validate"], ["build"], ["lint"], ["preview"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (args, result.output)
        lines = [ln for ln in result.output.splitlines() if "control character" in ln]
        assert len(lines) == 1, result.output
        assert lines[0].startswith(f"{path}:{line}: {where + ': ' if where else ''}"), lines[0]
        assert "holds the control character U+" in lines[0] and "remove it" in lines[0]
    assert snapshot(tmp_path / "build") == before
    assert not (tmp_path / "build" / "preview").exists()


def _refused(tmp_path, monkeypatch, runner, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    earlier = tmp_path / "build" / "test-deck-v1.0.0.apkg"
    earlier.parent.mkdir(exist_ok=True)
    earlier.write_bytes(b"an earlier build")
    before = snapshot(tmp_path / "build")
    for args in (["validate"], ["build"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert expected in result.output.splitlines(), result.output
    assert snapshot(tmp_path / "build") == before


def test_a_fifo_in_the_scenarios_folder_is_never_opened(tmp_path, monkeypatch, runner):
    import os

    small_tree(tmp_path)
    os.mkfifo(tmp_path / "scenarios" / "pipe")
    _refused(
        tmp_path,
        monkeypatch,
        runner,
        "scenarios/pipe: not a file or a folder: scenarios go in <category-slug>/<id>.yaml",
    )


@pytest.mark.parametrize(
    "name,expected",
    [
        (
            "scenarios/deck.yaml",
            "scenarios/deck.yaml: is a link: deck.yaml must be a plain file in the scenarios folder",
        ),
        (
            "scenarios/retired.yaml",
            "scenarios/retired.yaml: is a link: retired.yaml must be a plain file in the scenarios folder",
        ),
        ("CHANGELOG.md", "CHANGELOG.md: is a link: the changelog must be a plain file beside the scenarios"),
    ],
)
def test_links_to_files_outside_are_not_followed(tmp_path, monkeypatch, runner, name, expected):
    import os

    small_tree(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text(DECK_YAML if name.endswith("deck.yaml") else "retired: []\n")
    target = tmp_path / name
    if target.exists():
        target.unlink()
    os.symlink(outside, target)
    _refused(tmp_path, monkeypatch, runner, expected)


def test_markers_of_an_over_long_bullet_are_never_parsed(tmp_path, monkeypatch, runner):
    from deckgen import model

    crafted = "`" * 3000 + "[[" * 3000  # a parser's worst case, far over the 600-character limit
    small_tree(tmp_path, **{S: replace("    - Roll back the release", f"    - '{crafted}'")})
    parsed = []
    real = model.parse_markers
    monkeypatch.setattr(model, "parse_markers", lambda text: parsed.append(len(text)) or real(text))
    _refused(tmp_path, monkeypatch, runner, f"{SP}:15: answer.immediate[2]: is 9,000 characters; the limit is 600")
    assert max(parsed) < 600
