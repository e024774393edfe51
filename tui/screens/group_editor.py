"""Add or edit a courier group: cron schedule, time zone, couriers with wait and offset, and a live preview.

The module's top half is pure (no Textual): the form's values, the checks that
saving would make and the preview's rows, so the rules shown inline are
testable alone. The screen below only reads fields and shows what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Header,
    Input,
    Select,
    Static,
)
from textual.worker import Worker

from core import engine
from core.config import validate_document
from core.models import CourierGroup, GroupCourier, Project, field_default, to_document
from core.problems import PathPart, render_path
from tui.forms import FormCheck, Routed, route_problems
from tui.messages import ConfigSaved
from tui.screens.base import (
    AppAccess,
    ConfirmsDiscard,
    ExplainsDisabledKeys,
    ReportsWorkerFailures,
    SavesForm,
    apply_app_settings,
)
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter
from tui.widgets.form_row import form_row
from tui.widgets.toggles import Tickbox

if TYPE_CHECKING:
    from core.groups import ConstraintWait
    from core.schedule import ScheduledRun

GROUP_FIELDS = ("name", "schedule", "timezone", "couriers", "run-after", "notify-command")
"""Form fields of the group editor, in screen order; problems route to one of these or ``other``."""

PREVIEW_RUNS = 10
"""How many upcoming runs the preview lists."""
PREVIEW_DELAY = 0.15
"""Seconds of quiet typing before the preview is computed again."""

DEFAULT_SCHEDULE = "30 8 * * *"
DEFAULT_TIMEZONE: str = field_default(CourierGroup, "timezone")
NO_WAIT: str = field_default(GroupCourier, "wait")
NO_OFFSET: str = field_default(GroupCourier, "offset")
NO_CONSTRAINT_OFFSET: str = field_default(CourierGroup, "run_after_offset")
NOTIFY_NOTE = (
    "Optional. Runs when a run ends and gets the run's JSON summary on stdin, e.g. curl -d @- https://hooks.slack.com/…"
)
MEMBERS_NOTE = (
    "Wait: how long to poll for missing data (30m, 2h). Offset: load data this much older "
    "than the scheduled time (1d, 13h)."
)
RUN_AFTER_NOTE = (
    "Offset: the other group's run must cover this group's window moved back this much "
    "(1d: it loads yesterday's files, this one today's)."
)
PREVIEW_COLUMNS = ("Local time", "UTC", "Files dated", "Note")
AFTER_COLUMN = "Waits for"

_SHOWN_UNDER = {"run-after-offset": "run-after"}
MEMBER_FIELDS = ("courier", "wait", "offset", "notify", "stop")
"""The fields of a courier row (``#member-N-courier`` …), in screen order."""
"""The constraint's offset is shown under the run-after field (as ``offset: …``)."""


# --- the form, without Textual --------------------------------------------------------------------


@dataclass(frozen=True)
class MemberForm:
    """One courier row of the group editor, as typed."""

    courier: str | None
    wait: str = NO_WAIT
    offset: str = NO_OFFSET
    notify_when_missing: bool = False
    stop_when_missing: bool = False


@dataclass(frozen=True)
class GroupForm:
    """What the group editor's fields hold."""

    name: str
    schedule: str
    timezone: str
    file_dates_in_zone: bool
    enabled: bool
    members: tuple[MemberForm, ...]
    run_after: str | None
    notify_command: str
    run_after_offset: str = NO_CONSTRAINT_OFFSET
    """The constraint's own offset: this group's window moved back by it must be covered by the upstream run."""

    @classmethod
    def from_group(cls, group: CourierGroup) -> GroupForm:
        """The form showing a stored group."""
        return cls(
            name=group.name,
            schedule=group.schedule or "",
            timezone=group.timezone,
            file_dates_in_zone=group.file_dates_in_zone,
            enabled=group.enabled,
            members=tuple(
                MemberForm(
                    member.courier, member.wait, member.offset, member.notify_when_missing, member.stop_when_missing
                )
                for member in group.couriers
            ),
            run_after=group.run_after,
            notify_command=group.notify_command or "",
            run_after_offset=group.run_after_offset,
        )


def zone_problem(name: str) -> str | None:
    """One line saying what is wrong with a time-zone name, or ``None`` when it is a zone.

    Partial names met while typing (``Europe``) are directories of the zone database,
    which ``zoneinfo`` answers with ``IsADirectoryError``; they are unknown zones here too.
    """
    from core.schedule import suggest_timezones, timezone_names, validate_timezone

    if name in timezone_names():
        return None
    try:
        return validate_timezone(name)
    except (OSError, ValueError):
        suggestions = suggest_timezones(name)
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ", e.g. America/Los_Angeles or UTC"
        return f'"{name}" is not an IANA time zone{hint}'


def check_group_form(form: GroupForm, existing: Project, original_name: str | None) -> FormCheck:
    """Validate the group editor's values the way saving would.

    Args:
        form: The field values.
        existing: The stored configuration (couriers and other groups are looked up here).
        original_name: The group being edited, or ``None`` when adding one.

    Returns:
        The group's document body and every problem routed to its field (``couriers``
        problems name the row, e.g. ``row 2, wait: …``).
    """
    check = FormCheck()
    name = form.name.strip()
    if not name:
        check.add("error", "name", "is required, e.g. Heap daily")
    elif name != original_name and name in existing.groups:
        check.add("error", "name", f'a courier group named "{name}" already exists; choose another name')
    zone = form.timezone.strip()
    zone_error = zone_problem(zone) if zone else "choose a time zone (F4), e.g. America/Los_Angeles or UTC"
    if zone_error:
        check.add("error", "timezone", zone_error)
    members: list[GroupCourier] = []
    rows: list[int] = []
    for index, member in enumerate(form.members):
        if not member.courier:
            check.add("error", "couriers", f"row {index + 1}: choose a courier, or remove the row")
            continue
        rows.append(index)
        members.append(
            GroupCourier(
                courier=member.courier,
                wait=member.wait.strip() or NO_WAIT,
                offset=member.offset.strip() or NO_OFFSET,
                notify_when_missing=member.notify_when_missing,
                stop_when_missing=member.stop_when_missing,
            )
        )
    # The body is the group's own document form (core.models.to_document), so its keys cannot drift.
    body: dict[str, Any] = to_document(
        CourierGroup(
            name=name,
            schedule=form.schedule.strip() or None,
            timezone=form.timezone.strip() or DEFAULT_TIMEZONE,
            file_dates_in_zone=form.file_dates_in_zone,
            enabled=form.enabled,
            couriers=tuple(members),
            run_after=form.run_after or None,
            run_after_offset=form.run_after_offset.strip() or NO_CONSTRAINT_OFFSET,
            notify_command=form.notify_command.strip() or None,
        )
    )
    check.document = body
    key = name or "group"
    # The zone is checked above; a known one stands in so the rest is still checked.
    checked = body if not zone_error else {**body, "timezone": DEFAULT_TIMEZONE}
    validation = validate_document({"courier-groups": {key: checked}}, existing=existing)
    routing = route_problems(validation, ("courier-groups", key), GROUP_FIELDS, aliases=_SHOWN_UNDER)
    for level, routed in routing:
        if routed.field == "couriers" and form.members and not members:
            continue  # each empty row already says what to do
        check.add(level, routed.field, routed.message, _group_label(routed, rows))
    return check


def _group_label(routed: Routed, rows: list[int]) -> str:
    """What a routed problem's line starts with: a member's names its row, the constraint's offset says so,
    a field's own has none (its field says it)."""
    path = routed.path
    if routed.field == "couriers" and len(path) >= 2 and isinstance(path[1], int):
        index = path[1]
        row = rows[index] + 1 if index < len(rows) else index + 1
        return f"row {row}, {render_path(path[2:]) or 'courier'}"
    if routed.field in _SHOWN_UNDER.values() and path[:1] != (routed.field,):
        return "offset"
    if routed.field != "other" and len(path) <= 1:
        return ""
    return routed.label


def preview_group(form: GroupForm) -> CourierGroup | str:
    """The group to preview, or one line saying why there is nothing to preview yet."""
    from core.config import OFFSET_RE
    from core.schedule import validate_cron

    schedule = form.schedule.strip()
    if not schedule:
        return "No schedule: this group runs only by hand (Run now, F5)."
    if validate_cron(schedule):
        return "Fix the schedule to see the next runs."
    zone = form.timezone.strip()
    if not zone or zone_problem(zone):
        return "Fix the time zone to see the next runs."
    members = []
    for index, member in enumerate(form.members):
        offset = member.offset.strip() or NO_OFFSET
        if not OFFSET_RE.match(offset):
            return f"Fix the offset in row {index + 1} to see the file dates."
        members.append(GroupCourier(courier=member.courier or f"row {index + 1}", offset=offset))
    if not members:
        members.append(GroupCourier(courier="(no courier)"))
    constraint_offset = form.run_after_offset.strip() or NO_CONSTRAINT_OFFSET
    if form.run_after and not OFFSET_RE.match(constraint_offset):
        return "Fix the constraint's offset to see the next runs."
    return CourierGroup(
        name=form.name.strip() or "group",
        couriers=tuple(members),
        schedule=schedule,
        timezone=zone,
        file_dates_in_zone=form.file_dates_in_zone,
        enabled=form.enabled,
        run_after=form.run_after,
        run_after_offset=constraint_offset,
    )


def describe_schedule(form: GroupForm) -> str:
    """The line under the schedule: its description in words, or that the group runs by hand."""
    from core.schedule import describe_cron, validate_cron

    schedule = form.schedule.strip()
    if not schedule:
        return "No schedule: the group runs only by hand."
    if validate_cron(schedule):
        return ""
    try:
        text = describe_cron(schedule)
    except Exception:  # noqa: BLE001 - cron-descriptor raises its own types; the cron itself is valid
        text = schedule
    zone = form.timezone.strip()
    return f"{text}, {zone} time" if zone else text


@dataclass
class PreviewRow:
    """One run of the preview table, as text (short enough for 80 columns)."""

    local: str
    """``Thu 2026-11-26 08:30 PST``"""
    utc: str
    """``11-26 16:30``"""
    files: str
    """The days whose files the run loads: ``11-25``, or per courier when their offsets differ."""
    note: str
    """``⚠ DST: moved``, ``⚠ DST: skipped``, ``⚠ DST: runs once``, ``⚠ DST: twice``, ``UTC moves`` or the
    window's kind when not daily."""
    detail: list[str] = field(default_factory=list)
    """The DST note and each courier's file window, shown for the highlighted run."""
    warning: str | None = None
    """A daylight-saving warning for the schedule field."""
    after: str = ""
    """With a constraint: the upstream run this run waits for (``06-15 08:00``, ``by hand``, ``✗ none``)."""


def preview_rows(
    runs: list[ScheduledRun], zone: str, waits: list[ConstraintWait] | None = None, constraint_offset: str = "0d"
) -> list[PreviewRow]:
    """Table rows for the next runs: local and UTC time, file dates, DST and window notes.

    ``waits`` (from ``engine.constraint_waits``, one per run that happens, in order) adds
    which upstream run each one waits for: a short cell and a detail line.
    """
    rows = []
    by_slot = {wait.slot: wait for wait in waits or []}
    for run in runs:
        detail = [note for note in (run.dst_note, run.utc_note) if note]
        if run.skipped or run.at_local is None:
            wall = run.slot.wall
            rows.append(
                PreviewRow(
                    local=f"{wall:%a %Y-%m-%d %H:%M}",
                    utc="—",
                    files="—",
                    note="⚠ DST: skipped",
                    detail=detail,
                    warning=f"daylight saving: {wall:%H:%M} does not exist on {wall:%a %Y-%m-%d} in {zone}; an interval "
                    "schedule skips it and keeps its real-time interval",
                )
            )
            continue
        local, utc = run.at_local, run.at_utc
        assert utc is not None
        by_courier = [(courier, _days(window.days)) for courier, window in run.windows]
        if len({days for _, days in by_courier}) <= 1:
            files = by_courier[0][1] if by_courier else ""
        else:
            files = "; ".join(f"{courier} {days}" for courier, days in by_courier)
        detail += [f"{courier}: {window.describe()}" for courier, window in run.windows]
        warning = None
        wall = run.slot.wall
        if run.slot.dst == "moved":
            note = "⚠ DST: moved"
            warning = (
                f"daylight saving: {wall:%H:%M} does not exist on {wall:%a %Y-%m-%d} in {zone}; the group "
                f"runs once just after the gap, at {local:%H:%M %Z}"
            )
        elif run.slot.dst == "repeated":
            note = "⚠ DST: twice"
            warning = (
                f"daylight saving: {local:%H:%M} happens twice on {local:%a %Y-%m-%d} in {zone}; an interval "
                "schedule runs at both, keeping its real-time interval"
            )
        elif run.dst_note:
            note = "⚠ DST: runs once"
            warning = (
                f"daylight saving: {local:%H:%M} happens twice on {local:%a %Y-%m-%d} in {zone}; "
                f"the group runs once, at {local:%H:%M %Z}"
            )
        elif run.utc_note:
            note = "UTC moves"
        elif run.window is not None and run.window.kind != "daily":
            note = run.window.kind
        else:
            note = ""
        wait = by_slot.get(local)
        if wait is not None:
            detail.append(wait.describe(constraint_offset))
        rows.append(
            PreviewRow(
                local=f"{local:%a %Y-%m-%d %H:%M %Z}",
                utc=f"{utc:%m-%d %H:%M}",
                files=files,
                note=note,
                detail=detail,
                warning=warning,
                after=wait.short if wait else "",
            )
        )
    return rows


def _days(days: tuple[date, ...]) -> str:
    """``03-14``, or ``03-13 – 03-14`` for a window of several days (the year is in the run's date)."""
    if not days:
        return "no day"
    if len(days) == 1:
        return f"{days[0]:%m-%d}"
    return f"{days[0]:%m-%d} – {days[-1]:%m-%d}"


# --- the screen ------------------------------------------------------------------------------------


class GroupEditorScreen(
    AppAccess, ConfirmsDiscard, SavesForm, ExplainsDisabledKeys, ReportsWorkerFailures, Screen[str | None]
):
    """The Add courier group / Edit courier group page, with live validation and a preview of the next runs.

    Args:
        name: The group to edit, or ``None`` to add one.
    """

    BINDINGS = [
        Binding("f2,ctrl+s", "save", "Save"),
        Binding("f5", "run_now", "Run now"),
        Binding("f4", "pick_zone", "Time zone", show=False),
        Binding("f6,ctrl+n", "add_member", "Add courier", show=False),
        Binding("f8,ctrl+r", "remove_member", "Remove courier"),
        Binding("escape", "back", "Back"),
    ]

    FORM_FIELDS = GROUP_FIELDS
    PROBLEM_ALIASES = _SHOWN_UNDER
    FIELD_WIDGETS = {
        "name": "#group-name",
        "schedule": "#schedule",
        "timezone": "#timezone",
        "couriers": "#members",
        "run-after": "#run-after",
        "notify-command": "#notify-command",
    }
    RESULT_ID = "action-result"

    def __init__(self, name: str | None = None, *, courier: str | None = None) -> None:
        super().__init__()
        self.original_name = name
        self.first_courier = courier
        """For a new group: the courier the user was on (the home screen's selection), its first member unless
        a group already runs it."""
        self.show_all = name is not None  # a stored group's problems show at once
        self.initial_form: GroupForm | None = None
        self.existing = Project()
        self.preview: list[PreviewRow] = []
        self._member_ids = 0
        self._preview_timer: Timer | None = None
        self._previewed: GroupForm | None = None
        self._preview_cells: list[tuple[str, ...]] | None = None
        self._texts: dict[str, str] = {}

    @property
    def members(self) -> Vertical:
        return self.query_one("#members", Vertical)

    @property
    def preview_table(self) -> DataTable[str]:
        return cast("DataTable[str]", self.query_one("#group-preview", DataTable))

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="group-form", classes="form", can_focus=False):
            yield Static(
                "A courier group runs its couriers as one unit on a cron schedule.", classes="form-intro", markup=False
            )
            yield form_row("Name", Input(id="group-name", placeholder="e.g. Heap daily", compact=True))
            yield ProblemList(id="name-problems")
            with Horizontal(classes="form-row"):
                yield Static("Schedule (cron)", classes="field-label")
                yield Input(
                    id="schedule",
                    placeholder="minute hour day month weekday, e.g. 30 8 * * *; blank: by hand",
                    compact=True,
                )
            yield Static("", id="schedule-description", classes="field-note", markup=False)
            yield ProblemList(id="schedule-problems")
            with Horizontal(classes="form-row"):
                yield Static("Time zone", classes="field-label")
                yield Input(id="timezone", placeholder="e.g. America/Los_Angeles", compact=True)
                yield Button("Choose… (F4)", id="zone-button", compact=True)
            yield ProblemList(id="timezone-problems")
            yield form_row(
                "", Tickbox("Use this time zone for file date ranges", id="file-dates-in-zone", compact=True)
            )
            yield form_row("", Tickbox("Enabled (runs on its schedule)", id="enabled", value=True, compact=True))
            yield Static("Couriers", classes="editor-label")
            with Horizontal(id="member-header"):
                yield Static("Courier", classes="member-courier-label")
                yield Static("Wait", classes="member-duration-label")
                yield Static("Offset", classes="member-duration-label")
                yield Static("If missing?", classes="member-missing-label")
            yield Vertical(id="members")
            yield Static(MEMBERS_NOTE, classes="field-note", markup=False)
            yield ProblemList(id="couriers-problems")
            with Horizontal(classes="form-row"):
                yield Button("Add courier (F6)", id="add-member-button", compact=True)
            with Horizontal(classes="form-row", id="run-after-row"):
                yield Static("Run after group", classes="field-label")
                yield Select[str]([], id="run-after", prompt="None: no constraint", compact=True)
                yield Static("Offset", classes="run-after-offset-label")
                yield Input("0d", id="run-after-offset", placeholder="0d", compact=True, classes="member-duration")
            yield Static(RUN_AFTER_NOTE, classes="field-note", markup=False)
            yield ProblemList(id="run-after-problems")
            yield form_row(
                "Notify command", Input(id="notify-command", placeholder="optional shell command", compact=True)
            )
            yield Static(NOTIFY_NOTE, classes="field-note", markup=False)
            yield ProblemList(id="notify-command-problems")
            yield ProblemList(id="other-problems")
            yield Static("", id="preview-title", classes="editor-label", markup=False)
            yield Static("", id="preview-note", classes="field-note", markup=False)
            yield DataTable(id="group-preview", cursor_type="row", zebra_stripes=True)
            yield Static("", id="preview-detail", markup=False)
            with Horizontal(id="group-run-row", classes="button-row"):
                yield Static("Day", classes="field-label-short")
                yield Input(id="run-day", placeholder="YYYY-MM-DD", compact=True)
                yield Button("Run now (F5)", id="run-button", compact=True)
            yield Static("", id="action-result", markup=False)
            with Horizontal(classes="button-row"):
                yield Button("Save", id="save-button", variant="primary", compact=True)
                yield Button("Cancel", id="cancel-button", compact=True)
        yield CourierFooter()

    async def on_mount(self) -> None:
        app = self.courier_app
        self.existing = engine.load_project(app.db_path)
        group = self.existing.groups.get(self.original_name) if self.original_name else None
        self.title = f"Edit courier group {self.original_name}" if group else "Add courier group"
        if group is not None:
            form = GroupForm.from_group(group)
        else:
            grouped = {member.courier for other in self.existing.groups.values() for member in other.couriers}
            # The courier the user was on, unless a group already runs it (the home screen's cursor rests on
            # the first row without being chosen); else the first courier no group runs yet.
            selected = self.first_courier if self.first_courier in self.existing.couriers else None
            first = (
                selected
                if selected is not None and selected not in grouped
                else next(
                    (name for name in self.existing.couriers if name not in grouped),
                    selected or next(iter(self.existing.couriers), None),
                )
            )
            form = GroupForm(
                name="",
                schedule=DEFAULT_SCHEDULE,
                timezone=DEFAULT_TIMEZONE,
                file_dates_in_zone=field_default(CourierGroup, "file_dates_in_zone"),
                enabled=field_default(CourierGroup, "enabled"),
                members=(MemberForm(first),) if first else (),
                run_after=None,
                notify_command="",
            )
        self.initial_form = form
        self.query_one("#group-name", Input).value = form.name
        self.query_one("#schedule", Input).value = form.schedule
        self.query_one("#timezone", Input).value = form.timezone
        self.query_one("#file-dates-in-zone", Checkbox).value = form.file_dates_in_zone
        self.query_one("#enabled", Checkbox).value = form.enabled
        for member in form.members:
            await self._mount_member(member)
        run_after = self.query_one("#run-after", Select)
        run_after.set_options([(name, name) for name in self.existing.groups if name != self.original_name])
        if form.run_after in self.existing.groups:
            run_after.value = form.run_after
        self.query_one("#run-after-offset", Input).value = form.run_after_offset
        self.query_one("#notify-command", Input).value = form.notify_command
        self.query_one("#run-day", Input).value = app.clock().date().isoformat()
        self.preview_table.add_columns(*PREVIEW_COLUMNS)
        apply_app_settings(self)
        self.query_one("#group-name", Input).focus()
        self.begin_editing()
        self.validate_form()
        self.refresh_preview()

    # Courier rows

    async def _mount_member(self, member: MemberForm) -> Widget:
        self._member_ids += 1
        prefix = f"member-{self._member_ids}"
        options = [(name, name) for name in self.existing.couriers]
        value = member.courier if member.courier in self.existing.couriers else Select.NULL
        select = Select[str](
            options,
            id=f"{prefix}-courier",
            prompt="Choose a courier",
            compact=True,
            classes="member-courier",
            value=value,
        )
        row = Horizontal(
            select,
            Input(member.wait, id=f"{prefix}-wait", placeholder="0m", compact=True, classes="member-duration"),
            Input(member.offset, id=f"{prefix}-offset", placeholder="0d", compact=True, classes="member-duration"),
            Tickbox("Notify", member.notify_when_missing, id=f"{prefix}-notify", compact=True, classes="member-notify"),
            Tickbox("Stop", member.stop_when_missing, id=f"{prefix}-stop", compact=True, classes="member-stop"),
            id=prefix,
            classes="member-row",
        )
        await self.members.mount(row)
        apply_app_settings(self)
        return row

    def member_rows(self) -> list[Widget]:
        """The whole courier rows, in order.

        A row being removed (F8 awaits it) loses its fields before it leaves the list, and one being added
        (Ctrl+N) gains them after it joins: the debounced preview that read such a row raised ``NoMatches``
        and took the app down. Only a row holding all its fields is part of the form.
        """
        return [
            row
            for row in self.members.query(".member-row")
            if all(row.query(f"#{row.id}-{name}") for name in MEMBER_FIELDS)
        ]

    def _focused_row(self) -> Widget | None:
        focused = self.focused
        while focused is not None and focused is not self:
            if focused.has_class("member-row"):
                return focused
            focused = cast("Widget | None", focused.parent)
        return None

    async def action_add_member(self) -> None:
        """Add a courier row (the first courier not in the group yet is chosen) and focus it."""
        taken = {member.courier for member in self.form().members}
        first = next((name for name in self.existing.couriers if name not in taken), None)
        row = await self._mount_member(MemberForm(first))
        row.query_one(Select).focus()
        row.scroll_visible()
        self.touch("couriers")
        self._changed_now()

    async def action_remove_member(self) -> None:
        """Remove the courier row that has the focus."""
        row = self._focused_row()
        if row is None:
            self.notify("Move to a courier row first (Tab), then remove it.", severity="warning")
            return
        rows = self.member_rows()
        index = rows.index(row)
        await row.remove()
        rows = self.member_rows()
        if rows:
            rows[min(index, len(rows) - 1)].query_one(Select).focus()
        else:
            self.query_one("#add-member-button", Button).focus()
        self.touch("couriers")
        self._changed_now()

    # Form state

    def form(self) -> GroupForm:
        """The values in the fields now."""
        members = []
        for row in self.member_rows():
            prefix = row.id
            courier = row.query_one(f"#{prefix}-courier", Select).value
            members.append(
                MemberForm(
                    courier=courier if isinstance(courier, str) else None,
                    wait=row.query_one(f"#{prefix}-wait", Input).value,
                    offset=row.query_one(f"#{prefix}-offset", Input).value,
                    notify_when_missing=row.query_one(f"#{prefix}-notify", Checkbox).value,
                    stop_when_missing=row.query_one(f"#{prefix}-stop", Checkbox).value,
                )
            )
        run_after = self.query_one("#run-after", Select).value
        return GroupForm(
            name=self.query_one("#group-name", Input).value,
            schedule=self.query_one("#schedule", Input).value,
            timezone=self.query_one("#timezone", Input).value,
            file_dates_in_zone=self.query_one("#file-dates-in-zone", Checkbox).value,
            enabled=self.query_one("#enabled", Checkbox).value,
            members=tuple(members),
            run_after=run_after if isinstance(run_after, str) else None,
            notify_command=self.query_one("#notify-command", Input).value,
            run_after_offset=self.query_one("#run-after-offset", Input).value,
        )

    @property
    def dirty(self) -> bool:
        """Whether the fields differ from what was loaded."""
        return self._ready and self.form() != self.initial_form

    def check_form(self) -> FormCheck:
        """Check the form as saving would; the preview's daylight-saving warnings go under the schedule."""
        check = check_group_form(self.form(), self.existing, self.original_name)
        if not check.errors.get("schedule"):
            for warning in dict.fromkeys(row.warning for row in self.preview if row.warning):
                check.add("warning", "schedule", warning)
        return check

    def form_checked(self, check: FormCheck) -> None:
        self._show_text("#schedule-description", describe_schedule(self.form()))
        save = self.query_one("#save-button", Button)
        if save.disabled == check.ok:
            save.disabled = not check.ok
            self.refresh_bindings()

    def problem_target(self, field_name: str) -> Widget | None:
        if field_name == "couriers":
            rows = self.member_rows()
            return rows[0].query_one(Select) if rows else self.query_one("#add-member-button")
        return super().problem_target(field_name)

    @property
    def preview_current(self) -> bool:
        """True when the preview shows the fields as they are now (no recompute is pending)."""
        return self._preview_timer is None and self._previewed == self.form()

    def _changed_now(self) -> None:
        """A field changed: check it at once, and recompute the preview once typing pauses."""
        if not self._ready:
            return
        self.validate_form()
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self.refresh_preview)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "run-day":
            self._touch_by(event.input, event)
            self._changed_now()

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _choice_changed(self, event: Select.Changed | Checkbox.Changed) -> None:
        self._touch_by(event.control, event)
        self._changed_now()

    def _touch_by(self, widget: Widget | None, event: Message) -> None:
        """The user changed ``widget``: its field (a courier row's widgets are ``couriers``) shows its errors."""
        if widget is None:
            return
        if (widget.id or "").startswith("member-"):
            self.touch("couriers", cause=event)
        elif widget.id == "run-after-offset":
            self.touch("run-after", cause=event)
        else:
            self.touch_widget(widget, event)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_member":
            return True if self._focused_row() is not None else None
        if action == "run_now":
            return True if self.original_name else None
        return True

    def why_disabled(self, action: str) -> str | None:
        if action == "remove_member":
            return "Move to a courier's row first (Tab): F8 removes the courier the cursor is on."
        if action == "run_now":
            return "Save the group first (F2): Run now runs a stored courier group."
        return None

    # The preview

    def refresh_preview(self) -> None:
        """Compute the next runs from the fields and show them (and any DST warning)."""
        from core.errors import CourierError
        from core.schedule import schedule_preview

        self._preview_timer = None
        if not self.is_attached:
            return
        form = self._previewed = self.form()
        zone = form.timezone.strip()
        group = preview_group(form)
        note = ""
        if isinstance(group, str):
            note, self.preview = group, []
        else:
            try:
                runs = schedule_preview(group, self.courier_app.clock(), PREVIEW_RUNS)
            except CourierError as error:
                note, self.preview = str(error), []
            else:
                slots = [run.at_local for run in runs if run.at_local is not None and not run.skipped]
                waits = engine.constraint_waits(group, self.existing, slots)
                self.preview = preview_rows(runs, zone, waits, group.run_after_offset)
                if not form.enabled:
                    note = "Disabled: these runs happen only once the group is enabled."
        where = "UTC" if zone in ("UTC", "Etc/UTC") else f"{zone} and UTC"
        self._show_text("#preview-title", f"Next {PREVIEW_RUNS} runs ({where})" if self.preview else "Next runs")
        self._show_text("#preview-note", note)
        with_after = any(row.after for row in self.preview)
        cells = [
            (row.local, row.utc, row.files, row.note) + ((row.after,) if with_after else ()) for row in self.preview
        ]
        if cells != self._preview_cells:
            self._preview_cells = cells
            table = self.preview_table
            cursor = table.cursor_row
            columns = (*PREVIEW_COLUMNS, AFTER_COLUMN) if with_after else PREVIEW_COLUMNS
            if len(table.columns) != len(columns):  # the constraint came or went: its column too
                table.clear(columns=True)
                table.add_columns(*columns)
            table.clear()
            for index, values in enumerate(cells):
                table.add_row(*values, key=str(index))
            table.display = bool(cells)
            if cells:
                table.move_cursor(row=min(cursor, len(cells) - 1))
        self._show_detail()
        self.validate_form()

    @on(DataTable.RowHighlighted, "#group-preview")
    def _run_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.preview_table
        lines: list[str] = []
        if self.preview and 0 <= table.cursor_row < len(self.preview):
            row = self.preview[table.cursor_row]
            lines = (
                [f"{row.local}: {line}" if index == 0 else line for index, line in enumerate(row.detail)]
                if row.detail
                else []
            )
        self._show_text("#preview-detail", "\n".join(lines))

    def _show_text(self, selector: str, text: str) -> None:
        """Show ``text`` in a Static, hidden when empty; unchanged text costs no layout."""
        if self._texts.get(selector) == text:
            return
        self._texts[selector] = text
        widget = self.query_one(selector, Static)
        widget.update(text)
        widget.display = bool(text)

    # The time zone

    def action_pick_zone(self) -> None:
        """Open the time-zone picker; its choice fills the field."""
        from tui.screens.zone_picker import ZonePickerScreen

        typed = self.query_one("#timezone", Input).value.strip()
        query = "" if not typed or zone_problem(typed) is None else typed

        def picked(zone: str | None) -> None:
            field_widget = self.query_one("#timezone", Input)
            if zone:
                field_widget.value = zone
            field_widget.focus()

        self.app.push_screen(ZonePickerScreen(current=typed, query=query), callback=picked)

    @on(Input.Submitted, "#timezone")
    @on(Button.Pressed, "#zone-button")
    def _zone_requested(self) -> None:
        self.action_pick_zone()

    # Save and leave

    def action_save(self) -> None:
        if self.refuse_save():
            return
        assert self.check.document is not None
        self._save(self.form().name.strip(), self.original_name, self.check.document)

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Save courier group")
    def _save(self, name: str, original: str | None, document: dict[str, Any]) -> None:
        from core import engine

        result = engine.save_group(self.courier_app.db_path, name, document, original=original)
        self.post_message(ConfigSaved("courier group", name, result.changes, result.warnings, document))

    def document_root(self) -> tuple[PathPart, ...]:
        return ("courier-groups", self.form().name.strip() or "group")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self.refused_by_engine(event):
            event.prevent_default()  # said under its field: no second notification
            return

    def on_config_saved(self, message: ConfigSaved) -> None:
        if message.kind != "courier group":
            return
        self.announce_saved(f'courier group "{message.name}"', message.warnings)
        self.initial_form = None
        self._ready = False
        self.dismiss(message.name)

    def action_back(self) -> None:
        self.leave(f'courier group "{self.original_name}"' if self.original_name else "the new courier group", None)

    # Run now

    def action_run_now(self) -> None:
        """Run the saved group for the day in the Day field and open the live run screen on it."""
        from core.runs import RunWindow

        if self.original_name is None:
            self.show_result("Save the group first (F2): Run now runs the saved group.", error=True)
            return
        if self.dirty:
            self.show_result("Save your changes first (F2): Run now runs the saved group.", error=True)
            return
        day_field = self.query_one("#run-day", Input)
        text = day_field.value.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.show_result(f'Day: "{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25', error=True)
            day_field.focus()
            return
        self.show_result(f"Started a run of {self.original_name} for {day}.")
        self.courier_app.start_run("group", self.original_name, RunWindow.day(day))

    @on(Button.Pressed, "#run-button")
    def _run_pressed(self) -> None:
        self.action_run_now()

    @on(Button.Pressed, "#add-member-button")
    async def _add_pressed(self) -> None:
        await self.action_add_member()

    @on(Button.Pressed, "#save-button")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel-button")
    def _cancel_pressed(self) -> None:
        self.action_back()
