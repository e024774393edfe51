"""Waiting on state, never on the clock: the one place tests wait for something to happen.

Tests wait for a condition (a worker's result, a run row, a screen), checked
after every turn of the event loop or every poll. The ceiling is not a timing
assertion: it only stops a test that would otherwise hang forever, so it is
far above anything a busy machine needs (``COURIER_TEST_CEILING`` seconds,
default 600). A test fails on what it sees, not on how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterator
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


_in_flight = 0
"""Message handlers and after-message callbacks that have started and not yet returned, in any app."""


def count_handlers_in_flight() -> None:
    """Make :func:`_busy` see a handler that is still running: Textual takes a message off its
    queue before it handles it, and an async handler (an action that awaits a mount) can span
    many turns of the event loop. Called once per test process by the TUI tests' conftest."""
    from textual.message_pump import MessagePump
    from textual.screen import Screen

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            global _in_flight
            _in_flight += 1
            try:
                return await method(*args, **kwargs)
            finally:
                _in_flight -= 1

        wrapper.__wrapped__ = method  # type: ignore[attr-defined]
        return wrapper

    for owner, name in (
        (MessagePump, "_dispatch_message"),
        (MessagePump, "_flush_next_callbacks"),
        (Screen, "_invoke_and_clear_callbacks"),
    ):
        if not hasattr(getattr(owner, name), "__wrapped__"):
            setattr(owner, name, counted(getattr(owner, name)))


def _busy(app: Any) -> str | None:
    """What the app is still doing on its event loop, or None when it has done everything it was asked.

    Busy is: a message queued anywhere on the screen or being handled anywhere
    (:func:`count_handlers_in_flight`: async actions and awaited mounts included),
    callbacks due after a message or a refresh, a DataTable that has not measured
    its new rows, or a layout or repaint the screen still owes. Worker threads are not counted: a test
    that starts one waits for its result on state (:func:`pilot_wait`).
    """
    if app._exit or not app.is_running:
        return None  # quitting: nothing more will be drawn
    screen = app.screen
    if not screen.is_mounted:
        return "the screen to mount"
    if _in_flight:
        return "a message handler to return"
    for node in (app, *screen.walk_children(with_self=True)):
        if not node._message_queue.empty() or node._next_callbacks:
            return f"{node!r} to handle its messages"
        if getattr(node, "_require_update_dimensions", False) or getattr(node, "_updated_cells", None):
            # A DataTable measures new rows and cells when it next idles; prompt it to.
            node.check_idle()
            return f"{node!r} to measure its rows"
    if screen._callbacks:
        return "callbacks after the refresh"
    if not screen.is_current or app._batch_count:
        return None  # Textual refreshes only the current screen, outside a batch of updates
    if screen._layout_required or screen._scroll_required or screen._repaint_required or screen._recompose_required:
        return "the screen's layout"
    if screen._dirty_widgets:
        return "a repaint"
    return None


async def settle(pilot: Any) -> None:
    """Wait until the app has handled everything a key press set off, judged on its state:
    nothing busy (:func:`_busy`) and the screen stack unchanged, twice in a row.

    Textual's own ``Pilot.press`` and ``Pilot.pause`` decide the app is done when the
    process looks idle (its CPU time stops advancing for 20 ms, at least twice a key);
    on a busy machine a process that is not scheduled looks idle too, and on an idle
    one the waits cost the suite a minute. This checks state instead and lets the
    event loop turn only as often as it has work (see :func:`lean_press`).
    """
    app = pilot.app
    started = time.monotonic()
    still = 0
    while still < 2:
        if time.monotonic() - started > CEILING:
            raise _gave_up(f"the app to handle a key ({_busy(app) or 'the screen stack'})")
        stack = list(app.screen_stack)
        busy = _busy(app)
        if busy == "the screen's layout" or busy == "a repaint":
            # The screen refreshes on a 60 Hz timer; do now what the timer would do next.
            app.screen._on_timer_update()
        await asyncio.sleep(0 if busy is None else 0.001)
        still = still + 1 if busy is None and list(app.screen_stack) == stack else 0


def lean_press() -> Callable[..., Any]:
    """``Pilot.press`` that posts each key as the terminal would and settles (:func:`settle`)
    on the app's state, without Textual's CPU-idle waits (replaced whole: those waits are
    what this removes); for the TUI tests' conftest."""

    async def press(pilot: Any, *keys: str) -> None:
        app = pilot.app
        for key in keys:
            with _no_idle_wait():
                await app._press_keys([key])
            await settle(pilot)

    return press


def lean_pause(original: Callable[..., Any]) -> Callable[..., Any]:
    """``Pilot.pause()`` that settles on state (:func:`settle`); a pause with a delay is left as it is."""

    async def pause(pilot: Any, delay: float | None = None) -> None:
        if delay is not None:
            await original(pilot, delay)
            return
        await settle(pilot)
        pilot.app.screen._on_timer_update()

    return pause


@contextlib.contextmanager
def _no_idle_wait() -> Iterator[None]:
    """Make Textual's key sending yield once instead of waiting for the process to look idle."""
    import textual.app

    async def one_turn(*_args: Any, **_kwargs: Any) -> None:
        await asyncio.sleep(0)

    saved = textual.app.wait_for_idle
    textual.app.wait_for_idle = one_turn  # type: ignore[assignment]
    try:
        yield
    finally:
        textual.app.wait_for_idle = saved


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
