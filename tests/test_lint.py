"""lint.py: each rule on a small tree, a bad case reported with its file, line and code, a good case silent.

The good scenario below is clean under every rule; each bad case changes one thing in it and
must produce exactly the finding named, at the line named, through the real command.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from deckgen import lint as rules
from deckgen.cli import main
from deckgen.lint import code_problem
from tests.conftest import DECK_YAML, small_tree

S = "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml"

GOOD = """\
id: kafka-lag-after-deploy
title: Consumer lag explodes after a deploy
category: streaming-kafka
buckets: [streaming, batch-spark]
difficulty: medium
situation: |
  Twenty minutes after the 14:05 release, lag on the `orders` group passes 2M
  and keeps climbing; the consumers' logs show them joining and leaving.
concepts:
  - consumer group rebalancing
  - max.poll.interval.ms
covers: [Lag explosion, watermarks]
references:
  - title: 'Kafka docs: consumer configs'
    url: https://kafka.apache.org/documentation/#consumerconfigs
answer:
  immediate:
    - 'Check whether the group is stuck in a [[rebalance loop]]'
    - 'Roll back the release'
  preventive:
    - 'Raise [[max.poll.interval.ms]] above the worst batch time'
  communication:
    - 'Tell the order-tracking team: [[tracking pages lag]], ETA 15:30'
    - 'Next update at 15:00 in #orders'
why: |
  Lag is a symptom; rebalancing is the cause: each batch outlives max.poll.interval.ms,
  so the group evicts the member. Late events are then held behind the watermarks.
"""


def bad(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


OTHERS = {
    "scenarios/streaming-kafka/late-events-window.yaml": None,
    "scenarios/pipeline-failures/gzip-one-task.yaml": None,
}


def run(tmp_path, monkeypatch, text: str, *args: str):
    small_tree(tmp_path, **{S: text, **OTHERS})
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["lint", S, *args])


def test_the_good_scenario_is_clean(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, GOOD, "--strict")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: no findings in 1 scenario"


LONG = "Drain the backlog with the same group id, then compare offsets"

# (case, the changed scenario, the one line lint must print)
CASES = [
    (
        "DG101 long bullet",
        bad("'Roll back the release'", f"'Roll back the release, then [[{LONG}]]'"),
        f"{S}:19: DG101 answer.immediate[2]: takes 3 lines on a 360 px phone (90 characters; 2 lines hold about 64): "
        "keep the action and its key phrase, move the detail to `why` or `pitfalls`",
    ),
    (
        "DG201 marker shown on the front",
        bad(
            "'Check whether the group is stuck in a [[rebalance loop]]'",
            "'Read the logs: members keep [[joining and leaving]]'",
        ),
        f"{S}:18: DG201 answer.immediate[1]: `[[joining and leaving]]` is already on the front (title or situation), "
        "so the card asks nothing: hide what the responder must work out",
    ),
    (
        "DG202 marker on filler",
        bad("'Roll back the release'", "'Roll back the release [[immediately]]'"),
        f"{S}:19: DG202 answer.immediate[2]: `[[immediately]]` hides only filler or stop words: hide the mechanism, "
        "setting, number or decision instead",
    ),
    (
        "DG203 long bullet hidden whole",
        bad("'Roll back the release'", "'Roll back the release and pin the consumer image to 2.30'"),
        f"{S}:19: DG203 answer.immediate[2]: has no marker, so the card hides all of it: mark only the key phrase "
        "(the mechanism, setting, number or decision) with [[...]]",
    ),
    (
        "DG204 marker on the team's name",
        bad(
            "'Tell the order-tracking team: [[tracking pages lag]], ETA 15:30'",
            "'Tell the [[order-tracking team]]: tracking pages lag, ETA 15:30'",
        ),
        f"{S}:23: DG204 answer.communication[1]: `[[order-tracking team]]` hides an audience: name who is told in "
        "plain text and hide what they are told (the impact, the decision)",
    ),
    (
        "DG204 marker on a time",
        bad("'Next update at 15:00 in #orders'", "'Next update [[at 15:00]] in #orders'"),
        f"{S}:24: DG204 answer.communication[2]: `[[at 15:00]]` hides a day or a clock time, which nobody can "
        "recall: show the time, hide the commitment or the mechanism",
    ),
    (
        "DG301 unused concept",
        bad("  - max.poll.interval.ms\n", "  - max.poll.interval.ms\n  - exactly-once semantics\n"),
        f"{S}:12: DG301 concepts[3]: `exactly-once semantics` is never used by the answer or `why`: use it where it "
        "matters, or list the concept the answer does use",
    ),
    (
        "DG302 covers claims what it does not exercise",
        bad("covers: [Lag explosion, watermarks]", "covers: [Lag explosion, Data skew]"),
        f"{S}:12: DG302 covers[2]: `Data skew` is not exercised by the situation, answer or `why`: remove it, or "
        "show it in the scenario",
    ),
    (
        "DG401 no next update",
        bad("'Next update at 15:00 in #orders'", "'Post the root cause in #orders'"),
        f"{S}:22: DG401 answer.communication: gives no next-update time: add one as a time ('next update 15:00', "
        "'next update Tuesday 10:00')",
    ),
    (
        "DG402 no ETA",
        bad("[[tracking pages lag]], ETA 15:30", "[[tracking pages lag]]"),
        f"{S}:22: DG402 answer.communication: gives no ETA: say when it is fixed or the data is back ('ETA 11:30', "
        "'numbers back by 09:00')",
    ),
    (
        "DG501 broken YAML snippet",
        GOOD + "code:\n  lang: yaml\n  source: |\n    groups:\n      - name: lag\n     rules: [\n",
        f"{S}:33: DG501 code.source: line 3: YAML: did not find expected key: fix the sample (a reader copies it)",
    ),
    (
        "DG501 broken fenced JSON",
        GOOD + '\n  ```json\n  {"a": 1,}\n  ```\n',
        f"{S}:30: DG501 why: fenced json block, line 1: JSON: Expecting property name enclosed in double quotes: "
        "fix the sample",
    ),
    (
        "DG601 no references",
        bad(
            "references:\n  - title: 'Kafka docs: consumer configs'\n    url: https://kafka.apache.org/documentation/#consumerconfigs\n",
            "",
        ),
        f"{S}:1: DG601 no `references`: add 1-3 pages of the vendor's docs or source (https) that back the key "
        "claims, as read while writing",
    ),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_file_line_and_code(tmp_path, monkeypatch, text, expected):
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 0, result.output  # advice only without --strict
    lines = result.output.splitlines()
    assert lines[:-1] == [expected], result.output
    strict = CliRunner().invoke(main, ["lint", S, "--strict"])
    assert strict.exit_code == 1 and strict.output.splitlines()[:-1] == [expected]


def test_near_duplicate_bullets_across_scenarios(tmp_path, monkeypatch):
    advice = "'Measure lag from the broker with [[kafka-lag-exporter]] and alert on seconds'"
    one = bad("'Roll back the release'", advice)
    other = (
        one.replace("id: kafka-lag-after-deploy", "id: lag-twin")
        .replace("title: Consumer lag explodes after a deploy", "title: Lag twin")
        .replace(
            "'Check whether the group is stuck in a [[rebalance loop]]'", "'Pause the producer of the [[replay topic]]'"
        )
        .replace(
            "'Raise [[max.poll.interval.ms]] above the worst batch time'", "'Cap [[max.poll.records]] at 200 per poll'"
        )
        .replace(
            "'Tell the order-tracking team: [[tracking pages lag]], ETA 15:30'",
            "'Tell support: [[refund status lags]], ETA 16:00'",
        )
        .replace("'Next update at 15:00 in #orders'", "'Next update 15:30 in #support'")
    )
    small_tree(tmp_path, **{S: one, "scenarios/streaming-kafka/lag-twin.yaml": other, **OTHERS})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["lint", "--select", "DG701"])
    assert result.output.splitlines()[:-1] == [
        "scenarios/streaming-kafka/lag-twin.yaml:19: DG701 answer.immediate[2]: nearly the same as "
        f"{S}:19 (answer.immediate[2]): say what is specific to this incident, or keep the advice in one card"
    ]


def test_a_yaml_comment_silences_one_finding_on_its_line(tmp_path, monkeypatch):
    text = bad(
        "'Roll back the release'", "'Roll back the release and pin the consumer image to 2.30'  # lint: ignore DG203"
    )
    result = run(tmp_path, monkeypatch, text, "--strict")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: no findings in 1 scenario, 1 silenced"
    other_code = text.replace("# lint: ignore DG203", "# lint: ignore DG101")
    assert run(tmp_path, monkeypatch, other_code, "--strict").exit_code == 1


def test_a_whole_file_and_the_deck_can_turn_a_rule_off(tmp_path, monkeypatch):
    text = "# lint: ignore-file DG6\n" + bad(
        "references:\n  - title: 'Kafka docs: consumer configs'\n    url: https://kafka.apache.org/documentation/#consumerconfigs\n",
        "",
    )
    assert run(tmp_path, monkeypatch, text, "--strict").exit_code == 0
    no_refs = bad(
        "references:\n  - title: 'Kafka docs: consumer configs'\n    url: https://kafka.apache.org/documentation/#consumerconfigs\n",
        "",
    )
    small_tree(tmp_path, **{S: no_refs, "scenarios/deck.yaml": DECK_YAML + "lint:\n  ignore: [DG601]\n", **OTHERS})
    assert CliRunner().invoke(main, ["lint", S, "--strict"]).exit_code == 0
    assert CliRunner().invoke(main, ["lint", S, "--strict", "--select", "DG1"]).exit_code == 0


def test_select_and_ignore_take_codes_and_prefixes(tmp_path, monkeypatch):
    text = bad("'Roll back the release'", "'Roll back the release and pin the consumer image to 2.30'")
    text = bad(
        "references:\n  - title: 'Kafka docs: consumer configs'\n    url: https://kafka.apache.org/documentation/#consumerconfigs\n",
        "",
    ).replace("'Roll back the release'", "'Roll back the release and pin the consumer image to 2.30'")
    codes = lambda out: [ln.split()[1] for ln in out.splitlines()[:-1]]  # noqa: E731
    assert codes(run(tmp_path, monkeypatch, text).output) == ["DG601", "DG203"]
    assert codes(run(tmp_path, monkeypatch, text, "--select", "DG2").output) == ["DG203"]
    assert codes(run(tmp_path, monkeypatch, text, "--ignore", "dg203").output) == ["DG601"]
    usage = run(tmp_path, monkeypatch, text, "--select", "DG999")
    assert usage.exit_code == 2 and "--select: `DG999` is no rule code or prefix" in usage.output


def test_github_format_annotates_the_diff(tmp_path, monkeypatch):
    text = bad("'Roll back the release'", "'Roll back the release and pin the consumer image to 2.30'")
    result = run(tmp_path, monkeypatch, text, "--format", "github")
    assert result.output.splitlines()[0] == (
        f"::warning file={S},line=19,title=DG203::answer.immediate[2]: has no marker, so the card hides all of it: "
        "mark only the key phrase (the mechanism, setting, number or decision) with [[...]] (marker-whole-bullet)"
    )


def test_json_format_for_tools(tmp_path, monkeypatch):
    text = bad("'Roll back the release'", "'Roll back the release and pin the consumer image to 2.30'")
    data = json.loads(run(tmp_path, monkeypatch, text, "--format", "json").output)
    assert data["counts"] == {"DG203": 1} and data["scenarios"] == 1
    assert data["findings"][0] == {
        "path": S,
        "line": 19,
        "code": "DG203",
        "rule": "marker-whole-bullet",
        "message": "answer.immediate[2]: has no marker, so the card hides all of it: mark only the key phrase "
        "(the mechanism, setting, number or decision) with [[...]]",
    }


def test_invalid_input_is_a_validation_error_first(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, bad("difficulty: medium", "difficulty: extreme"), "--format", "github")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"::error file={S},line=5::difficulty: 'extreme' is not one of easy | medium | hard"
    ]
    text = CliRunner().invoke(main, ["validate", "--format", "json"])
    assert text.exit_code == 1
    assert json.loads(text.output) == {
        "ok": False,
        "problems": [{"path": S, "line": 5, "message": "difficulty: 'extreme' is not one of easy | medium | hard"}],
    }


@pytest.mark.parametrize(
    "lang,source,expected",
    [
        ("yaml", "a: 1\nb: [2\n", (3, "YAML: did not find expected ',' or ']'")),
        ("yaml", "Resources: !Ref Bucket\n", None),  # tags parse; nothing is constructed
        ("json", '{"a": 1}', None),
        ("python", "def f(:\n", (1, "Python: invalid syntax")),
        ("python", "import os\nos.system('echo never run')\n", None),  # parsed, never executed
        ("sql", "SELECT * FROM t WHERE id = $1", None),  # Postgres placeholders: one dialect reads it
        ("sql", "SELECT 1", None),
        ("bash", "echo ok\n", None),
    ],
)
def test_code_samples_are_parsed_never_run(lang, source, expected):
    assert code_problem(source, lang) == expected


def test_rule_table_in_the_readme_lists_every_code():
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text("utf-8")
    for code, rule in rules.RULES.items():
        assert f"| {code} |" in readme and rule.name in readme, code
