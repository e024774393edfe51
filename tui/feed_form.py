"""The feed editor's form: its values, the document they make, and their problems by field.

Pure functions over ``core`` (no Textual), like ``tui.forms``: the feed editor
shows what ``check_feed_form`` returns, so the rules are testable on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from core.config import validate_document
from core.models import Feed, FeedField, Project, domain_table_name, field_default, to_document
from tui.forms import FormCheck, route_problems

FEED_FORM_FIELDS = ("source", "name", "primary-key", "fields", "last-updated", "stitch", "error-threshold")
"""Form fields of the feed editor, in screen order; problems route to one of these or ``other``."""

LAST_UPDATED_TYPES = ("Datetime", "Integer")
"""Field types that can decide which row wins (a Date is too coarse)."""


@dataclass
class FeedForm:
    """What the feed editor's fields hold."""

    feed_id: str
    source: str
    name: str
    fields: list[FeedField] = field(default_factory=list)
    """Every field, in the sample file's order."""
    primary_key: list[str] = field(default_factory=list)
    last_updated: str | None = None
    """``None`` means "Generate an updated field"."""
    stitch: bool = field_default(Feed, "stitch")
    threshold_text: str = str(field_default(Feed, "error_threshold"))
    status: str = "draft"
    """A new feed is a draft until activated (the model's default, ``active``, is what a document means
    when it leaves the status out)."""

    @property
    def table_name(self) -> str:
        """The domain table these names make, ``<source>:<feed>``."""
        return domain_table_name(self.source.strip(), self.name.strip())

    def ordered_key(self) -> list[str]:
        """The primary key in field order (the order the ``_pk`` value joins them)."""
        chosen = {name.lower() for name in self.primary_key}
        in_fields = [f.name for f in self.fields if f.name.lower() in chosen]
        known = {name.lower() for name in in_fields}
        return in_fields + [name for name in self.primary_key if name.lower() not in known]


def toggle_field(form: FeedForm, name: str, *, key: bool = False, required: bool = False) -> FeedForm:
    """The form with a field's primary-key or required flag flipped."""
    if key:
        lowered = {n.lower() for n in form.primary_key}
        primary_key = (
            [n for n in form.primary_key if n.lower() != name.lower()]
            if name.lower() in lowered
            else [*form.primary_key, name]
        )
        return replace(form, primary_key=primary_key)
    if required:
        return replace(form, fields=[replace(f, required=not f.required) if f.name == name else f for f in form.fields])
    return form


def with_field(form: FeedForm, updated: FeedField) -> FeedForm:
    """The form with one field replaced (matched by name)."""
    return replace(form, fields=[updated if f.name == updated.name else f for f in form.fields])


def threshold_value(text: str) -> Any:
    """The error threshold as the document holds it: an int when the text is a whole number, else the text."""
    stripped = text.strip()
    return int(stripped) if re.fullmatch(r"\d{1,6}", stripped) else stripped


def feed_body(form: FeedForm) -> dict[str, Any]:
    """The feed in project-document form (``Feed``'s own, so its keys cannot drift), every field included."""
    feed = Feed(
        id=form.feed_id,
        source=form.source.strip(),
        name=form.name.strip(),
        primary_key=tuple(form.ordered_key()),
        last_updated=form.last_updated,
        stitch=form.stitch,
        error_threshold=threshold_value(form.threshold_text),  # as typed: validation says what is wrong with it
        fields=tuple(form.fields),
        status=form.status,
    )
    # The status is always explicit: the editor reads it back to tell an activation from a save.
    return {**to_document(feed), "status": form.status}


def check_feed_form(form: FeedForm, existing: Project) -> FormCheck:
    """Validate the feed editor's values the way saving would.

    Args:
        form: The field values.
        existing: The stored configuration (domain table names must stay unique).

    Returns:
        The feed's document body and every problem routed to its field.
    """
    check = FormCheck()
    body = feed_body(form)
    check.document = body
    validation = validate_document({"feeds": {form.feed_id: body}}, existing=existing)
    # Problems about the whole feed are about its names (the domain table is taken).
    for level, routed in route_problems(validation, ("feeds", form.feed_id), FEED_FORM_FIELDS):
        label = "error threshold" if routed.field == "error-threshold" else routed.label
        check.add(level, routed.field, routed.message, label)
    if form.last_updated is not None:
        types = {f.name.lower(): f.type for f in form.fields}
        kind = types.get(form.last_updated.lower())
        if kind is None:
            check.add("error", "last-updated", f'"{form.last_updated}" is not a field of this feed', "last-updated")
        elif kind not in LAST_UPDATED_TYPES and kind != "Date":
            check.add(
                "error",
                "last-updated",
                f'"{form.last_updated}" is a {kind} field; pick a '
                "Datetime or Integer field, or generate an updated field",
                "last-updated",
            )
    return check
