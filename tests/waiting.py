"""Waiting on state, never on the clock: the one place tests wait for something to happen.

Tests wait for a condition (a worker's result, a run row, a screen), checked
after every turn of the event loop or every poll. The ceiling is not a timing
assertion: it only stops a test that would otherwise hang forever, so it is
far above anything a busy machine needs (``COURIER_TEST_CEILING`` seconds,
default 600). A test fails on what it sees, not on how long it took.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

CEILING = float(os.environ.get("COURIER_TEST_CEILING", "600"))
"""Seconds after which a wait gives up; only a hang should ever reach it."""

T = TypeVar("T")


def _gave_up(what: str) -> AssertionError:
    return AssertionError(f"gave up waiting for {what} after {CEILING:.0f} s (a hang, not slowness)")


async def pilot_wait(pilot: Any, condition: Callable[[], Any], what: str = "the app") -> None:
    """Let a Textual app run until ``condition()`` is true, one event-loop turn at a time."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > CEILING:
            raise _gave_up(what)
        await pilot.pause(0.02)


def wait_for(condition: Callable[[], T], what: str = "the condition", poll: float = 0.02) -> T:
    """Poll ``condition()`` until it returns something true, and return it."""
    started = time.monotonic()
    while not (result := condition()):
        if time.monotonic() - started > CEILING:
            raise _gave_up(what)
        time.sleep(poll)
    return result


async def settle(pilot: Any) -> None:
    """Wait until the app has handled everything a key press set off: no message is waiting
    anywhere on the screen, and the screen stack held still across two rounds.

    Textual's own ``Pilot.press`` decides a key was handled when the process looks idle
    (its CPU time stops advancing); on a busy machine a process that is not scheduled looks
    idle too, so a pushed screen could still be unmounted when a test looked at it. This
    checks state instead (see :func:`press_and_settle`).
    """
    app = pilot.app
    started = time.monotonic()
    still = 0
    while still < 2:
        if time.monotonic() - started > CEILING:
            raise _gave_up("the app to handle a key")
        stack = list(app.screen_stack)
        await pilot._wait_for_screen()
        screen = app.screen
        nodes = [app, *screen.walk_children(with_self=True)]
        quiet = screen.is_mounted and all(node._message_queue.empty() for node in nodes)
        still = still + 1 if quiet and list(app.screen_stack) == stack else 0
        if still < 2:
            await pilot.pause()


def press_and_settle(original: Callable[..., Any]) -> Callable[..., Any]:
    """``Pilot.press`` that settles (:func:`settle`) after every key, for the TUI tests' conftest."""

    async def press(pilot: Any, *keys: str) -> None:
        for key in keys:
            await original(pilot, key)
            await settle(pilot)

    return press


async def palette_wait(pilot: Any, expect: str) -> None:
    """Let the command palette finish searching until its first hit is the command named ``expect``.

    The palette searches in a worker after each key; pressing Enter before it has
    listed the hit would pick whatever the previous, shorter search found first.
    """
    from textual.command import CommandList, CommandPalette
    from textual.worker import WorkerState

    def listed() -> bool:
        palette = pilot.app.screen
        if not isinstance(palette, CommandPalette):
            return False
        if any(worker.state in (WorkerState.PENDING, WorkerState.RUNNING) for worker in palette.workers):
            return False
        hits = palette.query_one(CommandList)
        if not hits.option_count:
            return False
        prompt = hits.get_option_at_index(0).prompt
        return getattr(prompt, "plain", str(prompt)).split("\n", 1)[0] == expect

    await pilot_wait(pilot, listed, f"the command palette to list {expect!r}")
