"""The newcomer's path (issue 14): what a first-time user meets, key by key, at 80×24."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tui.screens.zone_picker import search_zones, zone_choices


@pytest.mark.parametrize(("query", "first"), [
    ("PST", ["America/Los_Angeles"]), ("Pacific", ["America/Los_Angeles"]), ("eastern", ["America/New_York"]),
    ("CET", ["Europe/Paris", "Europe/Berlin"]),
])
def test_the_zone_picker_puts_the_zone_an_abbreviation_means_first(query: str, first: list[str]) -> None:
    choices = zone_choices(datetime(2027, 1, 15, tzinfo=timezone.utc))
    found = [choice.name for choice, _ in search_zones(choices, query)]
    assert found[:len(first)] == first


def test_the_zone_picker_lists_inverted_posix_zones_last() -> None:
    choices = zone_choices(datetime(2027, 1, 15, tzinfo=timezone.utc))
    found = [choice.name for choice, _ in search_zones(choices, "GMT-8")]
    assert found[0] == "America/Los_Angeles"
    assert found[-1] == "Etc/GMT-8"
