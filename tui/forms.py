"""Form checking for the editors: turn form values into a project document and its problems.

Pure functions over ``core``: no Textual here, so the rules the editors show
inline are testable on their own. Every problem is routed to the form field it
belongs to, with its path in the document shown relative to the object
(``entities[0].object/land-as.file/tag: is required``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from core.config import Validation, validate_document
from core.models import Courier, Credential, Project, document_key, document_keys, field_default
from core.problems import UNKNOWN_FILE_TAG, PathPart, Problem, render_path

COURIER_FIELDS = ("name", *(key for key in document_keys(Courier) if key != "plugin"))
"""Form fields of the courier editor, in screen order (the model's document keys but the fixed plugin);
problems route to one of these or ``other``."""

CREDENTIAL_FIELDS = ("name", *document_keys(Credential))
"""Form fields of the credential modal, in screen order (they are also the document keys)."""


@dataclass
class FormCheck:
    """The outcome of checking a form: the document to save and every problem, by field."""

    document: dict[str, Any] | None = None
    """The object's body in project-document form, or ``None`` when it cannot be built."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    courier: Courier | None = None
    """The parsed courier, when the courier form has no errors."""
    labels: dict[str, list[str]] = field(default_factory=dict)
    """Field → the label each of its errors starts with (``""`` when none), in the order of ``errors``."""

    @property
    def ok(self) -> bool:
        """True when nothing blocks saving (warnings allowed)."""
        return not any(self.errors.values())

    @property
    def error_count(self) -> int:
        """How many errors the form has."""
        return sum(len(problems) for problems in self.errors.values())

    def refusal(self, fields: tuple[str, ...]) -> str:
        """Why the form was not saved: its first problem in screen order (``fields``), naming the field,
        and how many more there are, e.g. ``entities: invalid JSON at line 1, column 1: … (and 1 more)``."""
        order = [*fields, *(name for name in self.errors if name not in fields)]
        field_name, first = next((name, self.errors[name][0]) for name in order if self.errors.get(name))
        more = self.error_count - 1
        # A line labelled with its own field (the feed editor's ``name: must not be empty``) names it already.
        named = self.labels[field_name][0] in (field_name, field_name.replace("-", " "))
        return (first if named else f"{field_name}: {first}") + (f" (and {more} more marked ✗)" if more else "")

    def add(self, level: str, field_name: str, message: str, label: str = "") -> None:
        """Record a problem against a field, shown as ``label: message`` (the message alone without a label)."""
        target = self.errors if level == "error" else self.warnings
        target.setdefault(field_name, []).append(f"{label}: {message}" if label else message)
        if level == "error":
            self.labels.setdefault(field_name, []).append(label)


@dataclass
class CourierForm:
    """What the courier editor's fields hold, as text."""

    name: str
    credential: str | None
    bucket: str
    prefix: str
    layout: str
    entities_text: str
    load_operations_text: str


def json_problem(text: str) -> tuple[Any, str | None]:
    """Parse JSON text; return ``(value, None)`` or ``(None, "line L, column C: reason")``."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"


def check_courier_form(form: CourierForm, existing: Project, original_name: str | None) -> FormCheck:
    """Validate the courier editor's values the way saving would.

    Args:
        form: The field values.
        existing: The stored configuration (credentials and feeds are looked up here).
        original_name: The courier being edited, or ``None`` when adding one.

    Returns:
        The document body to save and every problem routed to its field.
    """
    check = FormCheck()
    name = form.name.strip()
    if not name:
        check.add("error", "name", "is required, e.g. Heap")
    elif name != original_name and name in existing.couriers:
        check.add("error", "name", f'a courier named "{name}" already exists; choose another name')
    body: dict[str, Any] = {
        "plugin": field_default(Courier, "plugin"),
        "credential": form.credential or "",
        "bucket": form.bucket.strip(),
        "prefix": form.prefix,
        "layout": form.layout,
    }
    if not form.credential:
        check.add("error", "credential", "choose a credential, or create one")
        body.pop("credential")
    invalid: set[str] = set()
    if form.entities_text.strip():
        entities, problem = json_problem(form.entities_text)
        if problem:
            check.add("error", "entities", problem)
            invalid.add("entities")
        else:
            body["entities"] = entities
    if form.load_operations_text.strip():
        operations, problem = json_problem(form.load_operations_text)
        if problem:
            check.add("error", "load-operations", problem)
            invalid.add("load-operations")
        else:
            body["load-operations"] = operations
    else:
        body["load-operations"] = {}
    if "entities" in invalid and form.layout == "heap-connect":
        # Without the list every Heap table may be named, so load operations still check.
        invalid.discard("entities")
    check.document = body
    validation = validate_document({"couriers": {name or "courier": body}}, existing=existing)
    for level, routed in route_problems(validation, ("couriers", name or "courier"), COURIER_FIELDS):
        if routed.field == "credential" and not form.credential:
            continue
        if routed.field in invalid:
            continue
        if "entities" in invalid and routed.code == UNKNOWN_FILE_TAG:
            continue  # the tags are unknown until the entities parse
        if "entities" in invalid and routed.field == "entities":
            continue
        check.add(level, routed.field, routed.message, routed.label)
    if check.ok:
        check.courier = validation.project.couriers.get(name)
    return check


def check_credential_form(values: dict[str, str], existing: Project) -> FormCheck:
    """Validate the credential modal's values.

    Args:
        values: Field → text for every name in ``CREDENTIAL_FIELDS``; blank means not set.
        existing: The stored configuration (names must be new).

    Returns:
        The credential's document body and every problem routed to its field.
    """
    check = FormCheck()
    name = values.get("name", "").strip()
    if not name:
        check.add("error", "name", "is required, e.g. heap-s3")
    elif name in existing.credentials:
        check.add("error", "name", f'a credential named "{name}" already exists; choose another name')
    body = {key: values[key].strip() for key in CREDENTIAL_FIELDS[1:] if values.get(key, "").strip()}
    check.document = body
    validation = validate_document({"credentials": {name or "credential": body}}, existing=existing)
    for level, routed in route_problems(validation, ("credentials", name or "credential"), CREDENTIAL_FIELDS):
        check.add(level, routed.field, routed.message, routed.label)
    return check


def credential_from_document(name: str, body: dict[str, Any]) -> Credential:
    """The credential a modal's document describes (used after it is saved)."""
    values = {item.name: body.get(document_key(item), item.default) for item in fields(Credential)}
    return Credential(**{**values, "name": name})


@dataclass(frozen=True)
class Routed:
    """A validation problem placed on an editor's form: the field it belongs to and its path below the object."""

    field: str
    """The form field (one of the editor's fields), or ``other`` when none of them holds the value."""
    path: tuple[PathPart, ...]
    """The path below the edited object, e.g. ``("entities", 0, "object/land-as", "file/tag")`` (the whole
    path when the problem is about another object)."""
    message: str
    code: str = ""

    @property
    def label(self) -> str:
        """What the line shown under the field starts with: the path relative to the object (nothing for a
        problem about the whole object)."""
        return render_path(self.path)


def route_problems(
    validation: Validation,
    root: tuple[PathPart, ...],
    fields: tuple[str, ...],
    *,
    whole: str = "name",
    aliases: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, Routed]]:
    """Every problem of a validation (``("error" | "warning", routed)``), placed on a form by its path.

    The one place the editors route problems to fields: from the problem's path, never its text.

    Args:
        validation: What ``core.config.validate_document`` found for a document holding the one object.
        root: The object's path in that document, e.g. ``("couriers", "Heap")``.
        fields: The form's field names, which are the object's document keys.
        whole: The field that takes problems about the object as a whole (its name, usually).
        aliases: Document keys shown under another field (``run-after-offset`` under ``run-after``).
    """
    for level, problems in (("error", validation.errors), ("warning", validation.warnings)):
        for problem in problems:
            yield level, route(problem, root, fields, whole=whole, aliases=aliases)


def route(
    problem: Problem,
    root: tuple[PathPart, ...],
    fields: tuple[str, ...],
    *,
    whole: str = "name",
    aliases: Mapping[str, str] | None = None,
) -> Routed:
    """One problem placed on a form by its path (see :func:`route_problems`)."""
    relative = problem.within(root)
    if relative is None:
        return Routed("other", problem.path, problem.message, problem.code)
    if not relative:
        return Routed(whole, relative, problem.message, problem.code)
    key = relative[0]
    target = (aliases or {}).get(str(key), key)
    return Routed(target if target in fields else "other", relative, problem.message, problem.code)


def preview_courier(form: CourierForm, existing: Project) -> Courier | str:
    """The courier to preview or test, built from the connection fields and entities only.

    Load operations are left out, so a half-edited load operation never blocks a
    preview. Returns the courier, or one line saying what to fix first.
    """
    check = check_courier_form(
        CourierForm(
            name=form.name or "preview",
            credential=form.credential,
            bucket=form.bucket,
            prefix=form.prefix,
            layout=form.layout,
            entities_text=form.entities_text,
            load_operations_text="{}",
        ),
        Project(credentials=existing.credentials, feeds=existing.feeds),
        None,
    )
    for field_name in ("credential", "bucket", "prefix", "layout", "entities", "other"):
        if check.errors.get(field_name):
            return f"Fix the {field_name} first: {check.errors[field_name][0]}"
    if check.courier is None:
        return "Fix the problems shown in red first"
    return check.courier
