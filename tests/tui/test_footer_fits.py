"""The footer at 80×24 (issue 14, item 1): help and the way out first, then whole keys that fit, none cut."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.cells import cell_len
from textual.widgets._footer import FooterKey

from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.widgets.footer import KEY_PADDING

AppFactory = Callable[..., CourierApp]


def footer_keys(app: CourierApp) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


def width(keys: list[FooterKey]) -> int:
    return sum(cell_len(key.key_display) + cell_len(key.description) + KEY_PADDING for key in keys)


async def test_the_footer_shows_whole_keys_that_fit_help_and_quit_first(
    configured_db: Path, app_factory: AppFactory
) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_wait(pilot, lambda: bool(footer_keys(app)), "the footer")
        keys = footer_keys(app)
        assert [key.description for key in keys[:2]] == ["Help", "Quit"]
        assert width(keys) <= 80
        assert all(key.region.right <= 80 for key in keys)
        narrow = len(keys)
        await pilot.resize_terminal(120, 40)
        await pilot_wait(pilot, lambda: len(footer_keys(app)) > narrow, "more keys on a wider screen")
        assert width(footer_keys(app)) <= 120
