"""The editors' fields, defaults and documents come from the configuration models (one description per object)."""

from __future__ import annotations

from core.models import Courier, Credential, Entity, Feed, FeedField, document_keys, field_default, to_document
from tui.feed_form import FEED_FORM_FIELDS, FeedForm, feed_body
from tui.forms import COURIER_FIELDS, CREDENTIAL_FIELDS
from tui.screens.courier_editor import EXAMPLE_ENTITIES


def test_the_editors_fields_are_the_models_document_keys() -> None:
    assert CREDENTIAL_FIELDS == ("name", *document_keys(Credential))
    assert COURIER_FIELDS == ("name", *(key for key in document_keys(Courier) if key != "plugin"))
    # The feed editor shows its fields in its own order; the status is set by activating, not typed.
    assert set(FEED_FORM_FIELDS) == set(document_keys(Feed)) - {"status"}


def test_a_new_feed_form_starts_from_the_models_defaults_and_makes_its_document() -> None:
    form = FeedForm(feed_id="df-orders01", source="Shop", name="Orders", fields=[FeedField("id", "Integer")])
    assert form.stitch == field_default(Feed, "stitch")
    assert form.threshold_text == str(field_default(Feed, "error_threshold"))
    body = feed_body(form)
    assert tuple(body) == document_keys(Feed)
    assert body["fields"] == {"id": to_document(FeedField("id", "Integer"))}


def test_a_new_courier_starts_from_the_models_entity() -> None:
    (entity,) = EXAMPLE_ENTITIES
    assert tuple(entity) == document_keys(Entity)[:-1]  # object/optional is left out when false
    assert entity["object/land-as"]["file/content-type"] == field_default(Entity, "content_type")
