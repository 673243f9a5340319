"""notes.py: identities that users' collections depend on. These values are frozen."""

from __future__ import annotations

from deckgen import notes


def test_note_type_names_fields_and_templates_are_frozen():
    """Anki copies a note type whose field or template names change and skips every note.

    If this test fails, you are about to break every user's update. Change styling and
    template HTML freely; never these names.
    """
    assert notes.SCENARIO_MODEL_NAME == "deckgen Scenario"
    assert notes.SCENARIO_FIELDS == (
        "Title",
        "Situation",
        "Text",
        "Back Extra",
        "Meta",
        "Scenario ID",
        "Spare 1",
        "Spare 2",
    )
    assert notes.BUCKET_MODEL_NAME == "deckgen Bucket"
    assert notes.BUCKET_FIELDS == ("Bucket", "Triggers", "Text", "Back Extra", "Spare 1", "Spare 2")
    for model in (notes.scenario_model(), notes.scenario_model("en_US"), notes.bucket_model()):
        assert [t["name"] for t in model.templates] == ["Cloze"]
    assert [f["name"] for f in notes.scenario_model().fields] == list(notes.SCENARIO_FIELDS)
    assert [f["name"] for f in notes.bucket_model().fields] == list(notes.BUCKET_FIELDS)


# The bundled deck's deck ids as v1.0.0 shipped them (read back from that package): every
# user's cards sit in these decks. A full deck and every subset must use exactly these.
BUNDLED_DECK_IDS = {
    "When Theory Ends: Production Scenarios": 381337505943512,
    "When Theory Ends: Production Scenarios::00 Classify the scenario": 899532527128500,
    "When Theory Ends: Production Scenarios::01 Data Pipeline Failures": 123360833709890,
    "When Theory Ends: Production Scenarios::02 Performance & Latency Issues": 4475925706181104,
    "When Theory Ends: Production Scenarios::03 Streaming / Kafka Incidents": 3314845086693888,
    "When Theory Ends: Production Scenarios::04 Data Quality & Trust Breaks": 2749418483240229,
    "When Theory Ends: Production Scenarios::05 Cloud Cost & Resource Explosions": 2366246707830032,
    "When Theory Ends: Production Scenarios::06 Orchestration & Scheduling Issues": 2457971730687719,
    "When Theory Ends: Production Scenarios::07 Schema, Contract & Evolution Problems": 3141878983624048,
    "When Theory Ends: Production Scenarios::08 Backfills, Reprocessing & Recovery": 2965415049461722,
    "When Theory Ends: Production Scenarios::09 Security, Access & Compliance Incidents": 3528395198520843,
    "When Theory Ends: Production Scenarios::10 Stakeholder, Process & People Pressure": 2888480313355505,
}


def test_ids_are_fixed_constants():
    assert notes.SCENARIO_MODEL_ID == 57967746506566
    assert notes.BUCKET_MODEL_ID == 51886277240826
    assert notes.stable_id("deck", "when-theory-ends") == 381337505943512
    assert 2**40 <= notes.stable_id("x") < 2**53


def test_the_full_deck_and_every_subset_use_the_released_deck_ids_and_names():

    from deckgen import BuildOptions, load_project
    from deckgen.builder import _choose
    from tests.conftest import REPO

    project = load_project(REPO / "scenarios", REPO / "media")
    for categories in [()] + [(c.slug,) for c in project.deck.categories]:
        options = BuildOptions(categories=categories)
        used = {s.category for s in _choose(project, options)}
        decks = notes.deck_objects(project, used, "")
        got = {d.name: d.deck_id for d in decks.values()}
        assert got.items() <= BUNDLED_DECK_IDS.items(), categories
        assert len(got) == 2 + len(used)


def test_guid_depends_on_slug_and_id_only():
    assert notes.note_guid("when-theory-ends", "kafka-lag-after-deploy") == "n2~]m[A=,2"
    assert notes.bucket_guid("when-theory-ends", "streaming") == "GHS4KF@>W^"
    assert notes.note_guid("when-theory-ends", "a") != notes.note_guid("other-deck", "a")
    assert notes.bucket_guid("when-theory-ends", "streaming") != notes.note_guid("when-theory-ends", "streaming")


def test_templates_reference_only_existing_fields():
    import re

    for model, fields in (
        (notes.scenario_model("en_US"), notes.SCENARIO_FIELDS),
        (notes.bucket_model(), notes.BUCKET_FIELDS),
    ):
        for t in model.templates:
            for side in (t["qfmt"], t["afmt"]):
                for ref in re.findall(r"\{\{([^}]+)\}\}", side):
                    name = ref.split(":")[-1].lstrip("#/").strip()
                    assert name in fields or re.fullmatch(r"c[1-5]", name), ref  # cN: the card's cloze number
