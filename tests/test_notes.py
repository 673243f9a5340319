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


def test_ids_are_fixed_constants():
    assert notes.SCENARIO_MODEL_ID == 57967746506566
    assert notes.BUCKET_MODEL_ID == 51886277240826
    assert notes.stable_id("deck", "when-theory-ends") == notes.stable_id("deck", "when-theory-ends")
    assert 2**40 <= notes.stable_id("x") < 2**53


def test_guid_depends_on_slug_and_id_only():
    assert notes.note_guid("when-theory-ends", "kafka-lag-after-deploy") == "n2~]m[A=,2"
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
