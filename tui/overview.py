"""What the Sources screen shows: rows for couriers, feeds and groups, and the next step.

Read with one engine call (``core.engine.overview``) on the UI thread; no
Textual here, so the rows and the seven-step hint are testable on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core import engine
from core.models import Project


@dataclass(frozen=True)
class CourierRow:
    """One line of the couriers table."""

    name: str
    layout: str
    bucket: str
    status: str
    """The last run's status, or ``never run``."""
    last_run: str
    """When the last run started, e.g. ``2026-11-25 08:30 UTC``; empty when never run."""


@dataclass(frozen=True)
class FeedRow:
    """One line of the feeds table."""

    id: str
    table: str
    status: str
    last_load: str


@dataclass(frozen=True)
class GroupRow:
    """One line of the courier groups table."""

    name: str
    schedule: str
    description: str
    enabled: str
    next_run: str


@dataclass
class Overview:
    """Everything the Sources screen needs, loaded at once."""

    project: Project
    couriers: list[CourierRow] = field(default_factory=list)
    feeds: list[FeedRow] = field(default_factory=list)
    groups: list[GroupRow] = field(default_factory=list)
    next_step: str = ""


def load_overview(
    db_path: Path, now: datetime, *, keys: dict[str, str] | None = None, first: str | None = None
) -> Overview:
    """Read the configuration and run state into table rows and the next-step hint.

    Args:
        db_path: The Courier database.
        now: The current time, aware; next runs are computed from it.
        keys: Action → key for the actions the screen offers (``add_courier``,
            ``edit``, ``run``, ``add_feed``, ``add_group``); the hint names them.
        first: The courier the user is on; the hint speaks of it first (see ``next_step``).
    """
    from core.schedule import describe_cron, upcoming_runs

    state = engine.overview(db_path)
    project = state.project
    runs = state.last_runs
    overview = Overview(project=project)
    for courier in project.couriers.values():
        last = runs.get(courier.name)
        overview.couriers.append(
            CourierRow(
                name=courier.name,
                layout=courier.layout,
                bucket=courier.bucket,
                status=last.status if last else "never run",
                last_run=format_time(last.started_at) if last else "",
            )
        )
    loads = state.feed_loads
    for feed in project.feeds.values():
        overview.feeds.append(
            FeedRow(
                id=feed.id,
                table=feed.table_name,
                status=feed.status,
                last_load=format_time(loads[feed.id]) if feed.id in loads else "never",
            )
        )
    for group in project.groups.values():
        if group.schedule is None:
            schedule, description, next_run = "manual", "runs only by hand", ""
        else:
            schedule = group.schedule
            try:
                description = describe_cron(group.schedule)
            except Exception:  # cron-descriptor raises its own types; the table still shows the text
                description = ""
            next_run = ""
            if group.enabled:
                # A slot in a spring-forward gap does not run, so the next real run is shown.
                moment = next(
                    slot.at for slot in upcoming_runs(group.schedule, group.timezone, now, 3) if slot.at is not None
                )
                next_run = f"{moment:%a %Y-%m-%d %H:%M} {moment.tzname()}"
            description = f"{description} ({group.timezone})" if description else group.timezone
        overview.groups.append(
            GroupRow(
                name=group.name,
                schedule=schedule,
                description=description,
                enabled="yes" if group.enabled else "no",
                next_run=next_run if group.enabled else "disabled",
            )
        )
    overview.next_step = next_step(project, state.landed, state.loaded, keys or {}, first=first)
    return overview


def next_step(
    project: Project, landed: dict[str, int], loaded: set[str], keys: dict[str, str], *, first: str | None = None
) -> str:
    """What a newcomer should do next in Amperity's seven steps.

    Args:
        project: The stored configuration.
        landed: Sample files landed per courier.
        loaded: Couriers that have loaded rows into domain tables.
        keys: Action → key for the actions available on the screen.
        first: The courier the user is on (just saved, or selected): its next step comes first, so the
            hint's "run X (press r)" and ``r`` act on the same courier.
    """

    def key(action: str) -> str:
        return f" (press {keys[action]})" if action in keys else ""

    if not project.couriers:
        return (
            "Step 2 of 7: add a courier for the Heap bucket"
            + key("add_courier")
            + ". You need the role ARN and bucket name from step 1, Get details"
            + (f" (press {keys['app.get_details']})" if "app.get_details" in keys else "")
            + "."
        )
    active = [feed for feed in project.feeds.values() if feed.status == "active"]
    grouped = {member.courier for group in project.groups.values() for member in group.couriers}
    couriers = sorted(project.couriers.values(), key=lambda courier: courier.name != first)
    for courier in couriers:
        operations = courier.load_operations
        unknown = [feed_id for feed_id in operations if feed_id not in project.feeds]
        placeholder = not operations or len(unknown) == len(operations)
        if placeholder and not landed.get(courier.name):
            listed = f" Press {keys['samples']} to see them." if "samples" in keys else ""
            if courier.layout == "heap-connect":  # manifests, not days: no "for today" to claim
                return (
                    f"Step 3 of 7: get sample files: run {courier.name}"
                    + key("run")
                    + "; it lands a sample file of each Heap table, then fails on the placeholder feed ID."
                    + listed
                )
            return (
                f"Step 3 of 7: get sample files: run {courier.name} for today"
                + key("run")
                + "; it lands the files, then fails on the placeholder feed ID."
                + listed
            )
        if not project.feeds:
            samples = f", or from its sample files (press {keys['samples']})" if "samples" in keys else ""
            return f"Step 4 of 7: add a feed for each sample file of {courier.name}" + key("add_feed") + samples + "."
        if not active:
            names = ", ".join(feed.table_name for feed in project.feeds.values())
            edit = f" (select one, press {keys['edit']}, then F5)" if "edit" in keys else ""
            return f"Step 4 of 7: activate the draft feeds ({names}) to load their sample files{edit}."
        if unknown or not operations:
            what = (
                f"{', '.join(unknown)} {'is not a feed' if len(unknown) == 1 else 'are not feeds'}"
                if unknown
                else "they are empty"
            )
            return (
                f"Step 5 of 7: fix the load operations of {courier.name}: {what}; "
                "use the IDs of your active feeds"
                + (key("load_operations") if "load_operations" in keys else key("edit"))
                + "."
            )
        if courier.name not in loaded:
            return f"Step 6 of 7: run {courier.name} to load data into the domain tables" + key("run") + "."
        if courier.name not in grouped:
            return f"Step 7 of 7: add {courier.name} to a courier group with a cron schedule" + key("add_group") + "."
    return "All set: every courier loads its feeds and runs in a courier group."


def format_time(text: str) -> str:
    """``2026-11-25T08:30:00.123456Z`` → ``2026-11-25 08:30 UTC`` (unparseable text is shown as is)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
