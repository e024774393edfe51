"""Pick a field's semantic tags: fuzzy search over Amperity's tags, or type a custom one."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from core.config import SEMANTIC_TAG_RE, SEMANTIC_TAGS
from tui.screens.base import apply_app_settings
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter

CUSTOM_PREFIX = "\0custom:"
"""Option id prefix of the "Add custom tag" option."""


def matching_tags(query: str, chosen: tuple[str, ...]) -> list[str]:
    """Tags to offer for a query: chosen custom tags and Amperity's tags, best fuzzy match first."""
    candidates = [tag for tag in chosen if tag not in SEMANTIC_TAGS] + list(SEMANTIC_TAGS)
    query = query.strip()
    if not query:
        return candidates
    matcher = Matcher(query)
    scored = [(matcher.match(tag), index, tag) for index, tag in enumerate(candidates)]
    return [tag for score, _, tag in sorted(scored, key=lambda item: (-item[0], item[1])) if score > 0]


class TagPickerScreen(ModalScreen["tuple[str, ...] | None"]):
    """Chooses a field's semantic tags; dismisses with the tags, or ``None`` when cancelled.

    Args:
        field_name: The field being tagged (for the title).
        tags: Its tags now.
    """

    BINDINGS = [
        Binding("f2,ctrl+s", "done", "Done"),
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("ctrl+x", "clear", "Remove all"),
    ]

    def __init__(self, field_name: str, tags: tuple[str, ...]) -> None:
        super().__init__()
        self.field_name = field_name
        self.chosen: list[str] = list(tags)

    def compose(self) -> ComposeResult:
        with Vertical(id="tag-dialog", classes="dialog"):
            yield Static(f"Semantic tags of {self.field_name}", classes="dialog-title", markup=False)
            yield Static("", id="tag-chosen", markup=False)
            yield Input(id="tag-query", placeholder="Type to search, or type a custom tag", compact=True)
            yield OptionList(id="tag-options", markup=False)
            yield ProblemList(id="tag-problems")
            yield Static(
                "↑↓ choose · Enter adds or removes the tag · F2 done · Esc cancel", classes="dialog-note", markup=False
            )
        yield CourierFooter()

    def on_mount(self) -> None:
        apply_app_settings(self)
        self._show_chosen()
        self._refresh_options()
        self.query_one("#tag-query", Input).focus()

    def _show_chosen(self) -> None:
        text = "Tags: " + ", ".join(self.chosen) if self.chosen else "No tags yet."
        self.query_one("#tag-chosen", Static).update(text)

    def _refresh_options(self) -> None:
        query = self.query_one("#tag-query", Input).value.strip()
        options = self.query_one("#tag-options", OptionList)
        tags = matching_tags(query, tuple(self.chosen))
        items: list[Option] = []  # every option has an id
        problems: list[str] = []
        if query and query not in tags and query not in self.chosen:
            if SEMANTIC_TAG_RE.match(query):
                items.append(Option(f'+ add custom tag "{query}"', id=CUSTOM_PREFIX + query))
            else:
                problems.append(
                    f'"{query}" is not a semantic tag: use lowercase letters, digits, - and /, e.g. fk-heap-user'
                )
        items += [Option(f"{'✓' if tag in self.chosen else ' '} {tag}", id=tag) for tag in tags]
        options.clear_options()
        options.add_options(items)
        if items:
            # The best match comes first; the custom tag is one step up from it.
            options.highlighted = 1 if len(items) > 1 and (items[0].id or "").startswith(CUSTOM_PREFIX) else 0
        self.query_one("#tag-problems", ProblemList).show(problems, [])

    @on(Input.Changed, "#tag-query")
    def _query_changed(self) -> None:
        self._refresh_options()

    def action_move(self, step: int) -> None:
        options = self.query_one("#tag-options", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -1
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def _toggle_highlighted(self) -> None:
        options = self.query_one("#tag-options", OptionList)
        if options.highlighted is None or not options.option_count:
            return
        option_id = options.get_option_at_index(options.highlighted).id or ""
        tag = option_id.removeprefix(CUSTOM_PREFIX)
        if tag in self.chosen:
            self.chosen.remove(tag)
        else:
            self.chosen.append(tag)
        self._show_chosen()
        query = self.query_one("#tag-query", Input)
        if query.value:
            query.value = ""
        else:
            highlighted = options.highlighted
            self._refresh_options()
            options.highlighted = highlighted

    @on(Input.Submitted, "#tag-query")
    def _submitted(self) -> None:
        self._toggle_highlighted()

    @on(OptionList.OptionSelected, "#tag-options")
    def _selected(self) -> None:
        self._toggle_highlighted()

    def action_clear(self) -> None:
        self.chosen.clear()
        self._show_chosen()
        self._refresh_options()

    def action_done(self) -> None:
        self.dismiss(tuple(self.chosen))

    def action_cancel(self) -> None:
        self.dismiss(None)
