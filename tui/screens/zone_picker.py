"""The time-zone picker: fuzzy search over the IANA zones, by keys only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.style import Style
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.screens.base import AppAccess, apply_app_settings
from tui.widgets.footer import CourierFooter

MATCH_STYLE = Style(bold=True, underline=True)
"""How the typed letters show in each zone name."""


@dataclass(frozen=True)
class ZoneChoice:
    """One zone as the picker lists it."""

    name: str
    """The IANA name, e.g. ``America/Los_Angeles``."""
    label: str
    """The name as people read it: ``America/Los Angeles``."""
    offset: str
    """``GMT-08:00`` at the time the picker opened."""
    abbreviation: str
    """``PST``; empty when the zone has only a numeric one (``+0530``)."""

    @property
    def search_text(self) -> str:
        """What a query is matched against: the name with spaces, then the abbreviation."""
        return f"{self.label} {self.abbreviation}".rstrip()


def zone_choices(now: datetime) -> list[ZoneChoice]:
    """Every IANA zone with its offset and abbreviation at ``now``, sorted by name."""
    from core.schedule import timezone_names

    choices = []
    for name in timezone_names():
        local = now.astimezone(ZoneInfo(name))
        offset = local.strftime("%z") or "+0000"
        abbreviation = local.tzname() or ""
        if abbreviation[:1] in "+-":
            abbreviation = ""
        choices.append(ZoneChoice(name, name.replace("_", " "), f"GMT{offset[:3]}:{offset[3:]}", abbreviation))
    return choices


def search_zones(choices: list[ZoneChoice], query: str) -> list[tuple[ZoneChoice, Matcher | None]]:
    """The zones that fuzzily match ``query``, best first (all zones, by name, for an empty query).

    The zones an abbreviation or region word usually means (``PST``, ``Eastern``, ``CET``) come
    first, and ``GMT-8`` lists the zones at UTC−8 now; ``Etc/GMT±N`` zones come last, since their
    sign is the reverse of what people expect.
    """
    from core.schedule import COMMON_ZONES, gmt_offset_hours

    query = query.strip().replace("_", " ")
    if not query:
        return [(choice, None) for choice in choices]
    matcher = Matcher(query, match_style=MATCH_STYLE)
    preferred: tuple[str, ...] = COMMON_ZONES.get(query.lower(), ())
    hours = gmt_offset_hours(query)
    if hours is not None:
        offset = f"GMT{'-' if hours < 0 else '+'}{abs(hours):02}:00"
        common = {zone for zones in COMMON_ZONES.values() for zone in zones}
        preferred = tuple(
            sorted(
                (choice.name for choice in choices if choice.offset == offset and not choice.name.startswith("Etc/")),
                key=lambda zone: zone not in common,
            )
        )
    scored = [(matcher.match(choice.search_text), choice) for choice in choices]
    found = [(score, choice) for score, choice in scored if score > 0 or choice.name in preferred]

    def rank(item: tuple[float, ZoneChoice]) -> tuple[int, int, float]:
        score, choice = item
        first = preferred.index(choice.name) if choice.name in preferred else len(preferred)
        return first, choice.name.startswith("Etc/GMT"), -score

    return [(choice, matcher) for _, choice in sorted(found, key=rank)]


class ZonePickerScreen(AppAccess, ModalScreen[str | None]):
    """Type to filter the zones, move with ↑/↓, Enter picks; dismisses with the IANA name or ``None``.

    Args:
        current: The zone the field holds now (highlighted when it is listed).
        query: Text to start the search with.
    """

    BINDINGS = [
        Binding("enter", "pick", "Pick", show=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
    ]

    def __init__(self, current: str = "", query: str = "") -> None:
        super().__init__()
        self.current = current
        self.initial_query = query
        self.choices: list[ZoneChoice] = []

    @property
    def search(self) -> Input:
        return self.query_one("#zone-search", Input)

    @property
    def options(self) -> OptionList:
        return self.query_one("#zone-options", OptionList)

    def compose(self) -> ComposeResult:
        with Vertical(id="zone-dialog", classes="dialog"):
            yield Static("Time zone", classes="dialog-title")
            yield Input(id="zone-search", placeholder="Type to search, e.g. los angeles, pst, berlin", compact=True)
            yield OptionList(id="zone-options")
            yield Static("", id="zone-count", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.choices = zone_choices(self.courier_app.clock())
        self.search.value = self.initial_query
        apply_app_settings(self)
        self.search.focus()
        self._fill(self.initial_query)

    @on(Input.Changed, "#zone-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, query: str) -> None:
        found = search_zones(self.choices, query)
        options = self.options
        options.clear_options()
        options.add_options([Option(_prompt(choice, matcher), id=choice.name) for choice, matcher in found])
        count = len(found)
        self.query_one("#zone-count", Static).update(
            f"{count} of {len(self.choices)} zones. ↑/↓ move, Enter picks, Esc cancels."
            if count
            else "No zone matches; try fewer letters. Esc cancels."
        )
        if not count:
            return
        names = [choice.name for choice, _ in found]
        options.highlighted = names.index(self.current) if not query.strip() and self.current in names else 0

    def action_move(self, step: int) -> None:
        options = self.options
        if options.option_count == 0:
            return
        current = options.highlighted or 0
        options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_pick(self) -> None:
        options = self.options
        if options.highlighted is None or options.option_count == 0:
            return
        self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(Input.Submitted, "#zone-search")
    def _submitted(self) -> None:
        self.action_pick()

    @on(OptionList.OptionSelected, "#zone-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _prompt(choice: ZoneChoice, matcher: Matcher | None) -> Content:
    name = matcher.highlight(choice.label) if matcher else Content(choice.label)
    detail = f"{choice.offset} {choice.abbreviation}".rstrip()
    return Content.assemble(name, "  ", Content.styled(detail, "dim"))
