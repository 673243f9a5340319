"""End to end: build a small tree, import the .apkg into a real Anki collection, look."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pytest

from deckgen import BuildOptions, build, load_project
from tests.conftest import DECK_YAML, cli_args, import_apkg, new_collection, scenario, small_tree

ROOT = "Test Deck: Scenarios"
FULL_DECKS = sorted(
    [
        "Default",
        ROOT,
        f"{ROOT}::00 Classify the scenario",
        f"{ROOT}::01 Streaming / Kafka Incidents",
        f"{ROOT}::02 Data Pipeline Failures",
    ]
)


def _build(root: Path, **opts) -> Path:
    project = load_project(root / "scenarios", root / "media")
    return build(project, BuildOptions(out_dir=root / "build", **opts)).path


def _note(col, sid: str):
    nids = col.find_notes(f'"Scenario ID:{sid}"')
    assert len(nids) == 1, sid
    return col.get_note(nids[0])


def _text(fragment: str) -> str:
    """What a person reads: tags dropped, entities decoded, spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_notes_cards_decks_and_tags(tmp_path, collection):
    apkg = _build(small_tree(tmp_path))
    log = import_apkg(collection, apkg)
    assert len(log.new) == 5 and not log.updated and not log.duplicate

    scenario_nids = collection.find_notes('"note:deckgen Scenario"')
    bucket_nids = collection.find_notes('"note:deckgen Bucket"')
    assert len(scenario_nids) == 3 and len(bucket_nids) == 2
    for nid in scenario_nids:
        assert sorted(c.ord for c in collection.get_note(nid).cards()) == [0, 1, 2, 3, 4]
    for nid in bucket_nids:
        assert sorted(c.ord for c in collection.get_note(nid).cards()) == [0, 1]
    assert collection.card_count() == 3 * 5 + 2 * 2

    names = sorted(d.name for d in collection.decks.all_names_and_ids())
    assert names == FULL_DECKS
    note = _note(collection, "gzip-one-task")
    assert {collection.decks.name(c.did) for c in note.cards()} == {f"{ROOT}::02 Data Pipeline Failures"}
    assert sorted(note.tags) == [
        "test-deck::bucket::batch-spark",
        "test-deck::bucket::streaming",
        "test-deck::category::pipeline-failures",
        "test-deck::difficulty::easy",
    ]
    assert collection.find_notes("tag:test-deck::difficulty::hard") == list(
        collection.find_notes('"Scenario ID:late-events-window"')
    )
    root = collection.decks.by_name(ROOT)
    assert "Version 1.0.0" in root["desc"] and "<em>small</em>" in root["desc"]


def test_each_cloze_hides_its_section_and_the_back_shows_it(tmp_path, collection):
    import_apkg(collection, _build(small_tree(tmp_path)))
    cards = {c.ord: c for c in _note(collection, "kafka-lag-after-deploy").cards()}

    q1, a1 = cards[0].question(), cards[0].answer()
    # Two buckets asked, two placeholders that say what each stands for.
    assert _text(_section(q1, 1)) == "Which bucket? [primary bucket] · [also]"
    assert _text(_section(a1, 1)) == "Which bucket? Streaming / Real-Time · Batch / Spark Processing"

    q2 = cards[1].question()
    assert "consumer group rebalancing" not in _text(_section(q2, 2))
    assert _text(_section(q2, 2)).count("[concept]") == 2

    q3, a3 = cards[2].question(), cards[2].answer()
    front = _text(_section(q3, 3))
    assert "Check whether the group is stuck in a [symptom]" in front  # marker hidden, hint shown, rest visible
    assert "Roll back the release" not in front  # unmarked bullet hidden whole
    back = _text(_section(a3, 3))
    assert "stuck in a rebalance loop" in back and "Roll back the release" in back

    q5 = cards[4].question()
    assert "order-tracking team" not in _text(_section(q5, 5))
    assert "ETA 30 minutes" in _text(_section(q5, 5))
    # The situation is on every front; the back adds why, pitfalls and follow-ups.
    for card in cards.values():
        assert "lag on the orders group passes 2M" in _text(card.question())
        assert "Adding partitions mid-incident" not in _text(card.question())
        assert "rebalances are the cause" in _text(card.answer())


def _section(card_html: str, n: int) -> str:
    m = re.search(rf'<div class="wte-s wte-s{n}">(.*?)</div>', card_html, re.S)
    assert m, f"section {n} missing"
    return m.group(1)


def test_anki_syntax_in_text_shows_as_written_and_makes_no_card(tmp_path, collection):
    evil = (
        scenario("braces-and-colons")
        .replace(
            "  Twenty minutes after", "  [sound:alarm.mp3] and [anki:tts lang=en_US]hi[/anki:tts] Twenty minutes after"
        )
        .replace(
            "    - 'Raise [[max.poll.interval.ms]] above the worst batch time'\n",
            "    - 'Play [sound:b.mp3] then raise [[max.poll.interval.ms]]'\n",
        )
        .replace(
            "    - Roll back the release\n",
            "    - 'Literal {{c9::x}} and std::string and [sound:a.mp3] stay text'\n"
            "    - '[[{{ ds \\| ds_nodash }}|airflow::macro]] is the partition'\n",
        )
    )
    small_tree(tmp_path, **{"scenarios/streaming-kafka/braces-and-colons.yaml": evil})
    import_apkg(collection, _build(tmp_path))
    note = _note(collection, "braces-and-colons")
    assert sorted(c.ord for c in note.cards()) == [0, 1, 2, 3, 4]  # no c9 card
    c3 = next(c for c in note.cards() if c.ord == 2)
    assert "[airflow::macro]" in _text(c3.question())
    back = _text(c3.answer())
    assert "Literal {{c9::x}} and std::string and [sound:a.mp3] stay text" in back
    assert "{{ ds | ds_nodash }} is the partition" in back
    assert "{{ ds }}" in _text(c3.question()) and "std::vector" in _text(c3.question())
    for card in note.cards():  # the situation is on every side, the bullet's visible part on c4's
        assert card.question_av_tags() == [] and card.answer_av_tags() == []
    assert "[sound:alarm.mp3] and [anki:tts lang=en_US]hi[/anki:tts] Twenty minutes" in _text(c3.question())
    assert "Play [sound:b.mp3] then raise" in _text(next(c for c in note.cards() if c.ord == 3).question())


def test_script_and_handlers_never_reach_a_card(tmp_path, collection):
    nasty = scenario("html-attack").replace(
        "why: |\n",
        'why: |\n  <script>alert(1)</script><img src=x onerror=alert(2)><a href="JaVaScRiPt:alert(3)">x</a>'
        '<iframe src="https://example.com"></iframe>\n\n  A `<script>` in code stays text.\n',
    )
    small_tree(tmp_path, **{"scenarios/streaming-kafka/html-attack.yaml": nasty})
    import_apkg(collection, _build(tmp_path))
    for card in _note(collection, "html-attack").cards():
        for rendered in (card.question(), card.answer()):
            low = rendered.lower()
            assert "<script" not in low and "onerror" not in low and "javascript:" not in low
            assert "<iframe" not in low and "<img" not in low
    assert "<script> in code stays text" in _text(card.answer())


def test_rebuild_is_byte_identical_and_guids_are_stable(tmp_path):
    small_tree(tmp_path)
    first = _build(tmp_path).read_bytes()
    second = _build(tmp_path).read_bytes()
    assert first == second
    project = load_project(tmp_path / "scenarios", tmp_path / "media")
    one = build(project, BuildOptions(out_dir=tmp_path / "a")).guids
    edited = small_tree(
        tmp_path / "edited",
        **{
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario().replace("Roll back", "Revert"),
        },
    )
    two = build(load_project(edited / "scenarios", edited / "media"), BuildOptions(out_dir=tmp_path / "b")).guids
    assert one == two


def _answer_card(col, card_id: int):
    card = col.get_card(card_id)
    card.start_timer()
    col.sched.answerCard(card, 3)
    return col.get_card(card_id)


def test_newer_release_updates_in_place_and_keeps_reviews(tmp_path):
    v1 = small_tree(tmp_path / "v1")
    col = new_collection(tmp_path / "anki")
    import_apkg(col, _build(v1))
    note = _note(col, "kafka-lag-after-deploy")
    reviewed = {c.id: _answer_card(col, c.id) for c in note.cards()[:3]}
    history = {cid: (c.ivl, c.due, c.reps, c.type, c.queue) for cid, c in reviewed.items()}
    revlog_before = col.db.scalar("select count() from revlog")
    assert revlog_before == 3

    edited = scenario().replace("Roll back the release", "Roll back release 2.31 with the feature flag")
    v2 = small_tree(
        tmp_path / "v2",
        **{
            "scenarios/deck.yaml": (v1 / "scenarios/deck.yaml")
            .read_text()
            .replace("1.0.0", "1.1.0")
            .replace("2026-01-10", "2026-02-01"),
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": edited,
        },
    )
    log = import_apkg(col, _build(v2))
    assert not log.new and not log.conflicting
    assert len(log.updated) >= 1
    assert len(col.find_notes("")) == 5 and col.card_count() == 19
    after = _note(col, "kafka-lag-after-deploy")
    assert after.id == note.id
    assert "Roll back release 2.31 with the feature flag" in _text(after["Text"])
    for cid, before in history.items():
        c = col.get_card(cid)
        assert (c.ivl, c.due, c.reps, c.type, c.queue) == before
    assert col.db.scalar("select count() from revlog") == revlog_before
    assert len(col.models.all_names_and_ids()) == len({m.name for m in col.models.all_names_and_ids()})
    assert sum(1 for m in col.models.all_names_and_ids() if m.name.startswith("deckgen Scenario")) == 1
    col.close()


def test_same_release_date_does_not_overwrite(tmp_path):
    """Anki only takes an update whose note time is newer: the date must move forward."""
    v1 = small_tree(tmp_path / "v1")
    col = new_collection(tmp_path / "anki")
    import_apkg(col, _build(v1))
    v2 = small_tree(
        tmp_path / "v2",
        **{
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario().replace(
                "Roll back the release", "Changed text"
            ),
        },
    )
    log = import_apkg(col, _build(v2))
    assert not log.updated
    assert "Changed text" not in _note(col, "kafka-lag-after-deploy")["Text"]
    col.close()


def test_filtered_build_keeps_ids_and_names_what_it_kept(tmp_path, collection):
    small_tree(tmp_path)
    full = _build(tmp_path)
    part = _build(tmp_path, categories=("streaming-kafka",), difficulties=("hard",), for_peers=True)
    assert full.name == "test-deck-v1.0.0.apkg"
    assert part.name == "test-deck-v1.0.0-streaming-kafka-hard-peers.apkg"
    import_apkg(collection, part)
    assert len(collection.find_notes('"note:deckgen Scenario"')) == 1
    assert len(collection.find_notes('"note:deckgen Bucket"')) == 2  # buckets are in every build
    log = import_apkg(collection, full)
    assert len(log.new) == 2  # the two scenarios the subset left out; nothing duplicated
    assert len(collection.find_notes("")) == 5


def test_story_is_left_out_for_peers(tmp_path, collection):
    small_tree(
        tmp_path,
        **{
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario(
                story="'At my last job this paged me at 3am.'"
            )
        },
    )
    peers = _build(tmp_path, for_peers=True)
    import_apkg(collection, peers)
    assert "3am" not in _note(collection, "kafka-lag-after-deploy")["Back Extra"]
    full = new_collection(tmp_path / "full")
    import_apkg(full, _build(tmp_path))
    assert "paged me at 3am" in _note(full, "kafka-lag-after-deploy")["Back Extra"]
    full.close()


@pytest.mark.parametrize("lang", ["en_US", "de_DE"])
def test_tts_cards_can_be_done_eyes_free(tmp_path, collection, lang):
    """Front: the title, the situation and what the card asks; back: only the answer being asked."""
    apkg = _build(small_tree(tmp_path), tts=lang)
    assert apkg.name.endswith(f"-tts-{lang.lower().replace('_', '-')}.apkg")
    import_apkg(collection, apkg)
    cards = {c.ord + 1: c for c in _note(collection, "kafka-lag-after-deploy").cards()}
    asks = {
        1: "Which bucket is this? The primary one first.",
        2: "Which concepts does an interviewer listen for?",
        3: "What do you do right now?",
        4: "How do you stop it happening again?",
        5: "What do you tell the business?",
    }
    answers = {
        1: ["Streaming / Real-Time", "Batch / Spark Processing"],
        2: ["consumer group rebalancing", "max.poll.interval.ms"],
        3: ["rebalance loop", "Roll back the release"],
        4: ["max.poll.interval.ms"],
        5: ["order-tracking team"],
    }
    for n, card in cards.items():
        front = card.question_av_tags()
        assert [t.lang for t in front] == [lang] * 3
        assert front[0].field_text == "Consumer lag explodes after a deploy"
        assert front[1].field_text.strip().startswith("Twenty minutes after the 14:05 release")
        assert front[2].field_text == asks[n]
        back = card.answer_av_tags()
        assert len(back) == 1 and back[0].lang == lang
        said = _text(back[0].field_text)
        for phrase in answers[n]:
            assert phrase in said, (n, said)
        assert "Twenty minutes" not in said and "Tell the" not in said  # only the revealed part
    bucket = collection.get_note(collection.find_notes('"note:deckgen Bucket" "Bucket:Streaming / Real-Time"')[0])
    b1 = next(c for c in bucket.cards() if c.ord == 0)
    assert [t.field_text.strip() for t in b1.question_av_tags()] == [
        "When the interviewer opens with",
        "“Kafka lag increased”",
        "Name its typical scenarios.",
    ]
    assert _text(b1.answer_av_tags()[0].field_text) == "Lag explosion, Duplicate events"


def test_media_travel_inside_the_package(tmp_path, collection):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    small_tree(
        tmp_path,
        **{
            "media/lag.png": png,
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario(media="[lag.png]"),
        },
    )
    import_apkg(collection, _build(tmp_path))
    assert (Path(collection.media.dir()) / "lag.png").read_bytes() == png
    assert '<img src="lag.png"' in _note(collection, "kafka-lag-after-deploy")["Back Extra"]


def test_references_are_links_on_every_back_and_on_no_front(tmp_path, collection):
    refs = (
        "\n  - title: 'Kafka docs: consumer configs'\n    url: https://kafka.apache.org/documentation/#consumerconfigs"
        "\n  - title: Confluent, {{c9::not a cloze}} & co\n    url: https://docs.confluent.io/a?b=1&c=2"
    )
    small_tree(tmp_path, **{"scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario(references=refs)})
    import_apkg(collection, _build(tmp_path))
    note = _note(collection, "kafka-lag-after-deploy")
    assert sorted(c.ord for c in note.cards()) == [0, 1, 2, 3, 4]  # the title's braces made no card
    for card in note.cards():
        back, front = card.answer(), card.question()
        links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', back)
        assert [(html.unescape(u), html.unescape(t)) for u, t in links] == [
            ("https://kafka.apache.org/documentation/#consumerconfigs", "Kafka docs: consumer configs"),
            ("https://docs.confluent.io/a?b=1&c=2", "Confluent, {{c9::not a cloze}} & co"),
        ]
        assert "Read more" in _text(back)
        assert "Read more" not in _text(front) and "kafka.apache.org" not in front


def test_whitespace_that_is_allowed_reaches_anki_in_every_field(tmp_path, collection):
    """Tabs and line breaks are the only control characters a text may hold; Anki takes them everywhere."""
    tab = (
        scenario("tabs-everywhere")
        .replace("title: Consumer lag explodes after a deploy", 'title: "Consumer\\tlag"')
        .replace("  - consumer group rebalancing", '  - "consumer\\tgroup"')
        .replace("    - Roll back the release", '    - "Roll\\tback the release"')
        .replace("  - Adding partitions mid-incident", '  - "Adding\\tpartitions"')
    )
    tab += 'code: {lang: python, source: "x = 1\\t# tab\\r\\ny = 2\\n"}\n'
    from tests.conftest import DECK_YAML

    deck_text = DECK_YAML.replace('triggers: ["Kafka lag increased"]', 'triggers: ["Kafka\\tlag"]')
    small_tree(tmp_path, **{"scenarios/streaming-kafka/tabs-everywhere.yaml": tab, "scenarios/deck.yaml": deck_text})
    log = import_apkg(collection, _build(tmp_path))
    assert len(log.new) == 6 and not log.duplicate and not log.conflicting
    note = _note(collection, "tabs-everywhere")
    assert len(note.fields) == 8 and sorted(c.ord for c in note.cards()) == [0, 1, 2, 3, 4]
    assert (
        "Consumer\tlag" in note["Title"] and "Roll\tback" in note["Text"] and "Adding\tpartitions" in note["Back Extra"]
    )
    bucket = collection.get_note(collection.find_notes('"note:deckgen Bucket" "Bucket:Streaming / Real-Time"')[0])
    assert "Kafka\tlag" in bucket["Triggers"]


@pytest.mark.parametrize("opening,closing", [("\\(", "\\)"), ("\\[", "\\]")])
def test_mathjax_delimiters_in_two_bullets_show_as_written(tmp_path, collection, opening, closing):
    """Anki strips every tag between MathJax delimiters: written in code, they must stay text."""
    text = (
        scenario("mathjax-in-code")
        .replace("    - Roll back the release\n", f"    - 'Escape the paren as `{opening}` in the [[regex]]'\n")
        .replace(
            "    - 'Raise [[max.poll.interval.ms]] above the worst batch time'\n",
            f"    - 'Close it with `{closing}` and [[test the pattern]]'\n",
        )
    )
    small_tree(tmp_path, **{"scenarios/streaming-kafka/mathjax-in-code.yaml": text})
    import_apkg(collection, _build(tmp_path))
    note = _note(collection, "mathjax-in-code")
    shown_open, shown_close = opening, closing
    for card in note.cards():
        for side in (card.question(), card.answer()):
            assert side.count('<div class="wte-s wte-s') == 5  # every section keeps its markup
            assert 'class="cloze"' in side and "<code>" in side
        assert f"Escape the paren as {shown_open} in the" in _text(card.answer())
        assert f"Close it with {shown_close} and" in _text(card.answer())
        assert "mathjax_ignore" in card.question() and "mathjax_ignore" in card.answer()
    c3 = next(c for c in note.cards() if c.ord == 2)
    assert "[...]" in _text(_section(c3.question(), 3)) and "regex" not in _text(_section(c3.question(), 3))


def test_card_classes_written_in_a_scenario_have_no_effect(tmp_path, collection):
    """`class="cloze"` would show its section on every front; `wte-s` would blind diff's section hashes."""
    text = (
        scenario("class-injection")
        .replace(
            "    - Roll back the release\n",
            "    - 'Roll back <span class=\"cloze\">INJECTED-CLOZE</span> now'\n",
        )
        .replace("why: |\n", 'why: |\n  <div class="wte-s wte-s4"><h2>fake</h2>INJECTED-SECTION</div>\n\n')
    )
    small_tree(tmp_path, **{"scenarios/streaming-kafka/class-injection.yaml": text})
    apkg = _build(tmp_path)
    import_apkg(collection, apkg)
    note = _note(collection, "class-injection")
    for card in note.cards():
        question = card.question()
        shown = [
            n
            for n in range(1, 6)
            if re.search(rf'<div class="wte-s wte-s{n}">((?:(?!</div>).)*)class="cloze"', question, re.S)
        ]
        assert shown == [card.ord + 1]  # only the asked section holds a cloze, so only it shows on the front
        assert 'class="wte-s wte-s4"><h2>fake' not in card.answer()
    from deckgen.manifest import read

    entry = next(n for n in read(apkg)["notes"] if n["id"] == "class-injection")
    clean = next(n for n in read(apkg)["notes"] if n["id"] == "kafka-lag-after-deploy")
    assert entry["sections"]["preventive"] == clean["sections"]["preventive"]  # the fake section is not a section


def test_the_overview_description_flows_as_paragraphs(tmp_path, collection):
    """Anki shows the deck description with white-space: pre-wrap: no line break may survive in a paragraph."""
    from tests.conftest import DECK_YAML

    deck = DECK_YAML.replace(
        "description: |\n  A *small* deck for tests.\n",
        "description: |\n  A *small* deck\n  for tests, written over\n  three lines.\n\n  - a list item that\n    wraps in the source\n  - another\n",
    )
    small_tree(tmp_path, **{"scenarios/deck.yaml": deck})
    import_apkg(collection, _build(tmp_path))
    desc = collection.decks.by_name(ROOT)["desc"]
    assert "\n" not in desc and "  " not in desc
    assert (
        "<p>A <em>small</em> deck for tests, written over three lines.</p><ul><li>a list item that wraps in the source</li>"
        in desc
    )


def test_a_later_subset_then_the_full_deck_makes_no_extra_deck(tmp_path, collection):
    """The second category's subset names and numbers its deck exactly as the full deck does."""
    small_tree(tmp_path)
    subset = _build(tmp_path, categories=("pipeline-failures",))
    import_apkg(collection, subset)
    assert f"{ROOT}::02 Data Pipeline Failures" in [d.name for d in collection.decks.all_names_and_ids()]
    log = import_apkg(collection, _build(tmp_path))
    assert len(log.new) == 2 and not log.conflicting and len(collection.find_notes("")) == 5
    names = sorted(d.name for d in collection.decks.all_names_and_ids())
    assert names == FULL_DECKS
    note = _note(collection, "gzip-one-task")
    assert {collection.decks.name(c.did) for c in note.cards()} == {f"{ROOT}::02 Data Pipeline Failures"}


def test_guids_come_from_the_id_never_from_the_title(tmp_path):
    """Two scenarios with the same title get two notes; retitling a scenario keeps its note."""
    twin = scenario("late-events-window", difficulty="hard")  # same title as kafka-lag-after-deploy
    v1 = small_tree(tmp_path / "v1", **{"scenarios/streaming-kafka/late-events-window.yaml": twin})
    col = new_collection(tmp_path / "anki")
    import_apkg(col, _build(v1))
    ids = {sid: _note(col, sid).id for sid in ("kafka-lag-after-deploy", "late-events-window", "gzip-one-task")}
    assert len(set(ids.values())) == 3
    retitled = {
        "scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", "version: 1.1.0").replace(
            "2026-01-10", "2026-02-01"
        ),
        "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario().replace(
            "title: Consumer lag explodes after a deploy", "title: Lag climbs for an hour after release 2.31"
        ),
        "scenarios/streaming-kafka/late-events-window.yaml": twin.replace(
            "title: Consumer lag explodes after a deploy", "title: Late events fall out of the window"
        ),
    }
    log = import_apkg(col, _build(small_tree(tmp_path / "v2", **retitled)))
    assert not log.new and len(log.updated) >= 2
    assert {sid: _note(col, sid).id for sid in ids} == ids
    assert _note(col, "kafka-lag-after-deploy")["Title"] == "Lag climbs for an hour after release 2.31"
    col.close()


def test_note_times_are_midnight_utc_in_any_time_zone(tmp_path):
    import os
    import subprocess
    import sys

    small_tree(tmp_path)
    digests = set()
    for zone in ("UTC", "Pacific/Kiritimati", "America/Adak"):
        out = tmp_path / f"out-{zone.replace('/', '-')}"
        subprocess.run(
            [sys.executable, "-m", "deckgen", *cli_args("build", tmp_path, out, "--no-cache")],
            check=True,
            capture_output=True,
            env={**os.environ, "TZ": zone},
        )
        digests.add(hashlib.sha256((out / "test-deck-v1.0.0.apkg").read_bytes()).hexdigest())
        col = new_collection(tmp_path / f"anki-{zone.replace('/', '-')}")
        import_apkg(col, out / "test-deck-v1.0.0.apkg")
        assert set(col.db.list("select mod from notes")) == {1768003200}  # 2026-01-10T00:00:00Z
        col.close()
    assert len(digests) == 1


def test_builds_made_seconds_apart_are_byte_identical(tmp_path):
    import time

    small_tree(tmp_path)
    project = load_project(tmp_path / "scenarios", tmp_path / "media")
    first = build(project, BuildOptions(out_dir=tmp_path / "a")).path.read_bytes()
    time.sleep(1.1)  # a clock in the output would show now
    second = build(project, BuildOptions(out_dir=tmp_path / "b")).path.read_bytes()
    assert first == second
