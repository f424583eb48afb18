"""Pacing lanes and priorities, on the real clock with short intervals."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from custom_components.ipro_nvr.api import ClientClosedError, Priority
from custom_components.ipro_nvr.api.scheduler import Deadline, Scheduler, Urgency
from custom_components.ipro_nvr.api.spec import Lane, PacingPolicy

PACING = PacingPolicy(command_interval=0.05, camera_control_interval=0.05)


async def _take(
    scheduler: Scheduler, lane: Lane, priority: Priority, name: str, order: list[str]
) -> float:
    started = await scheduler.turn(lane, priority)
    order.append(name)
    return started


async def _queue(
    scheduler: Scheduler, lane: Lane, entries: list[tuple[str, Priority]], order: list[str]
) -> list[asyncio.Task[float]]:
    tasks = []
    for name, priority in entries:
        tasks.append(asyncio.create_task(_take(scheduler, lane, priority, name, order)))
        await asyncio.sleep(0)  # queued in this order
    return tasks


async def test_user_request_queued_after_background_ones_goes_first() -> None:
    """The first poll starts at once; the user's request overtakes the rest."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    entries = [(f"poll{i}", Priority.BACKGROUND) for i in range(4)]
    entries += [("keepalive", Priority.NORMAL), ("user", Priority.USER)]
    tasks = await _queue(scheduler, Lane.COMMAND, entries, order)
    starts = await asyncio.gather(*tasks)
    assert order == ["poll0", "user", "keepalive", "poll1", "poll2", "poll3"]
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert min(gaps) >= PACING.command_interval


async def test_what_a_person_opened_goes_before_tiles_waiting_for_pictures() -> None:
    """Tiles' first pictures queued first (a dashboard just opened), then a camera's
    live view: its START goes next, the tiles after it in their order, ahead of polls
    queued before them."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    entries = [(f"poll{i}", Priority.BACKGROUND) for i in range(2)]
    entries += [(f"tile{i}", Priority.TILE) for i in range(2)]
    entries += [("live", Priority.USER)]
    await asyncio.gather(*await _queue(scheduler, Lane.COMMAND, entries, order))
    assert order == ["poll0", "live", "tile0", "tile1", "poll1"]


async def _poll_against(
    turn_before: Priority, due: float, not_before: float, person: tuple[str, Priority]
) -> list[str]:
    """A turn taken at ``turn_before``; then a poll (its deadline in spacings from
    now) and a person wait for the next: the order they go in."""
    scheduler = Scheduler(PACING)
    spacing = Scheduler.spacing(PACING.command_interval)
    order: list[str] = []
    await scheduler.turn(Lane.COMMAND, turn_before)  # the lane is busy from here on
    now = scheduler.clock()
    deadline = Deadline(due=now + due * spacing, not_before=now + not_before * spacing)

    async def poll() -> None:
        await scheduler.turn(Lane.COMMAND, Priority.BACKGROUND, due=deadline)
        order.append("poll")

    polling = asyncio.create_task(poll())
    await asyncio.sleep(0)
    people = await _queue(scheduler, Lane.COMMAND, [person], order)
    await asyncio.gather(polling, *people)
    return order


async def test_a_held_poll_yields_to_tiles_as_to_people() -> None:
    """A tile waiting for its first picture is a person waiting: a poll held to its
    time lets it go first (up to the yield), as it does a live view."""
    order = await _poll_against(Priority.USER, 0, 0.5, ("tile", Priority.TILE))
    assert order == ["tile", "poll"]


@pytest.mark.parametrize(
    ("turn_before", "expected"),
    [
        # A poll's turn nobody else wanted, the person asking meanwhile: the person
        # goes first (the promoted poll would otherwise have gone first).
        (Priority.BACKGROUND, ["clip", "poll"]),
        # The turn before was a person's: the overdue poll goes next (once promoted,
        # a poll waits at most one person's turn).
        (Priority.USER, ["poll", "clip"]),
    ],
)
async def test_a_person_never_waits_two_turns_of_nobody_in_a_row(
    turn_before: Priority, expected: list[str]
) -> None:
    """A person and a poll long past its time wait for the same turn: which goes
    first depends on whose the turn before was."""
    order = await _poll_against(turn_before, -10, -10, ("clip", Priority.USER))
    assert order == expected


async def test_fifo_within_a_priority_and_spacing_with_margin() -> None:
    """Same priority: arrival order; every gap is at least the interval plus the margin."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    entries = [(f"c{i}", Priority.USER) for i in range(5)]
    starts = await asyncio.gather(*await _queue(scheduler, Lane.CAMERA_CONTROL, entries, order))
    assert order == [f"c{i}" for i in range(5)]
    spacing = Scheduler.spacing(PACING.camera_control_interval)
    assert spacing > PACING.camera_control_interval
    assert all(b - a >= spacing for a, b in itertools.pairwise(starts))


async def test_lanes_are_independent_and_streams_never_wait() -> None:
    """A busy command lane delays neither camera control nor stream requests."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    commands = await _queue(
        scheduler, Lane.COMMAND, [(f"cmd{i}", Priority.BACKGROUND) for i in range(3)], order
    )
    await scheduler.turn(Lane.CAMERA_CONTROL, Priority.BACKGROUND)
    for _ in range(20):
        await scheduler.turn(Lane.STREAM, Priority.BACKGROUND)
    # Granted while the command lane still holds two of its three: no wall clock needed.
    assert scheduler.queue_length(Lane.COMMAND) == 2
    snapshot = scheduler.snapshot()
    assert snapshot["camera_control"]["started"] == 1
    assert snapshot["stream"]["started"] == 20
    assert snapshot["command"]["started"] == 1
    assert snapshot["command"]["queued"] == 2
    await asyncio.gather(*commands)
    assert order == ["cmd0", "cmd1", "cmd2"]


async def test_cancelled_waiter_leaves_the_queue_without_a_turn() -> None:
    """Cancelling a queued request lets the next one go at the planned time."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    tasks = await _queue(
        scheduler, Lane.COMMAND, [("a", Priority.NORMAL), ("b", Priority.NORMAL)], order
    )
    third = asyncio.create_task(_take(scheduler, Lane.COMMAND, Priority.NORMAL, "c", order))
    await asyncio.sleep(0)
    tasks[1].cancel()
    await tasks[0]
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    started_c = await third
    assert order == ["a", "c"]
    assert started_c - await tasks[0] < 2 * Scheduler.spacing(PACING.command_interval)
    assert scheduler.queue_length(Lane.COMMAND) == 0


async def test_closing_fails_waiters_and_refuses_new_turns() -> None:
    """Waiting requests fail with ClientClosedError, new ones too; no timer lingers."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    tasks = await _queue(
        scheduler, Lane.COMMAND, [("a", Priority.NORMAL), ("b", Priority.NORMAL)], order
    )
    await tasks[0]
    scheduler.close()
    with pytest.raises(ClientClosedError):
        await tasks[1]
    with pytest.raises(ClientClosedError):
        await scheduler.turn(Lane.STREAM)
    assert order == ["a"]


async def test_injected_clock_measures_the_spacing() -> None:
    """The scheduler reads time from the injected clock (here a shifted one)."""
    base = time.monotonic()
    scheduler = Scheduler(PACING, clock=lambda: time.monotonic() - base + 1000.0)
    first = await scheduler.turn(Lane.COMMAND)
    second = await scheduler.turn(Lane.COMMAND)
    assert 1000.0 <= first < 1001.0
    assert second - first >= PACING.command_interval
    assert scheduler.snapshot()["command"]["last_start_s_ago"] < PACING.command_interval


async def test_a_waiting_poll_is_promoted_before_it_starves() -> None:
    """People queued behind a poll all go first by priority, until the poll has waited
    its promotion time (five spacings): then it is served before the rest."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    entries = [("first", Priority.USER), ("poll", Priority.BACKGROUND)]
    entries += [(f"user{index}", Priority.USER) for index in range(10)]
    await asyncio.gather(*await _queue(scheduler, Lane.COMMAND, entries, order))
    # By priority alone it would be last; promoted, it goes before later arrivals.
    assert order.index("poll") < len(order) - 3


async def test_promoted_requests_overtake_a_person_one_at_a_time() -> None:
    """Ten stops queued together are all promoted by the time a person comes: one of
    them may still go first, then the person, not after all of them."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    entries = [(f"stop{index}", Priority.NORMAL) for index in range(10)]
    tasks = await _queue(scheduler, Lane.COMMAND, entries, order)
    # The rest waited past their promotion (three spacings) by the fourth turn.
    while len(order) < 4:  # noqa: ASYNC110 - polling the order the turns were taken in
        await asyncio.sleep(0.01)
    served = len(order)
    tasks += await _queue(scheduler, Lane.COMMAND, [("user", Priority.USER)], order)
    await asyncio.gather(*tasks)
    # At most one promoted stop before the person (one more may have been granted
    # while the person's request was being queued).
    assert order.index("user") <= served + 2
    assert [name for name in order if name != "user"] == [f"stop{i}" for i in range(10)]


async def test_raising_an_urgency_moves_a_waiting_request_up() -> None:
    """A background request someone starts waiting for is served as theirs."""
    scheduler = Scheduler(PACING)
    order: list[str] = []
    urgency = Urgency(Priority.BACKGROUND)

    async def login() -> None:
        await scheduler.turn(Lane.COMMAND, urgency)
        order.append("login")

    tasks = await _queue(scheduler, Lane.COMMAND, [("running", Priority.USER)], order)
    tasks.append(asyncio.create_task(login()))
    await asyncio.sleep(0)
    tasks += await _queue(scheduler, Lane.COMMAND, [("normal", Priority.NORMAL)], order)
    urgency.raise_to(Priority.USER)
    await asyncio.gather(*tasks)
    assert order == ["running", "login", "normal"]


async def test_the_next_start_is_spaced_from_the_previous_answer() -> None:
    """An answer that came late (a new connection, a busy loop) moves the next start:
    the recorder must see the interval, not only our side."""
    scheduler = Scheduler(PACING)
    first = await scheduler.turn(Lane.COMMAND, Priority.USER)
    await asyncio.sleep(PACING.command_interval)  # the answer takes a whole interval
    scheduler.finished(Lane.COMMAND)
    answered = time.monotonic()
    second = await scheduler.turn(Lane.COMMAND, Priority.USER)
    assert second - first >= 2 * PACING.command_interval
    assert second - answered >= PACING.command_interval


async def test_a_request_sent_after_its_turn_moves_the_lane_on() -> None:
    """The interval counts from when the request left (a Digest challenge's resend)."""
    now = [1000.0]
    scheduler = Scheduler(PACING, clock=lambda: now[0])
    await scheduler.turn(Lane.COMMAND)
    now[0] += 0.04  # the challenge round trip; the resend leaves now
    scheduler.sent(Lane.COMMAND)
    assert scheduler.snapshot()["command"]["last_start_s_ago"] == 0.0
    scheduler.sent(Lane.STREAM)  # unpaced, never started: nothing to move
    assert scheduler.snapshot()["stream"]["last_start_s_ago"] is None


async def test_the_next_turn_waits_a_full_spacing_after_the_resend() -> None:
    """On the real clock: the next request starts a full spacing after the resend."""
    scheduler = Scheduler(PACING)
    await scheduler.turn(Lane.COMMAND)
    await asyncio.sleep(PACING.command_interval / 2)
    resent = time.monotonic()
    scheduler.sent(Lane.COMMAND)
    second = await scheduler.turn(Lane.COMMAND)
    assert second - resent >= Scheduler.spacing(PACING.command_interval)


async def test_a_polls_second_command_waits_behind_people_until_its_own_promotion() -> None:
    """A poll whose first command is due goes ahead of the people queued (at most one of
    them between); its second command, asked without the deadline, lets the people go
    first until its own promotion (five turns), then overtakes them: the first is the
    poll's time, the second (disk times, the error log) must not delay a person."""
    scheduler = Scheduler(PACING)
    order: list[str] = []

    async def poll() -> None:
        await scheduler.turn(Lane.COMMAND, Priority.BACKGROUND, due=scheduler.clock())
        order.append("poll 1")
        await scheduler.turn(Lane.COMMAND, Priority.BACKGROUND)
        order.append("poll 2")

    await scheduler.turn(Lane.COMMAND, Priority.USER)  # the lane is busy from here
    people = await _queue(
        scheduler, Lane.COMMAND, [(f"user{index}", Priority.USER) for index in range(12)], order
    )
    polling = asyncio.create_task(poll())
    await asyncio.gather(polling, *people)
    first_poll = order.index("poll 1")
    assert first_poll <= 1, order
    # People's turns go by while it waits (four or five: its promotion falls on the
    # fifth turn after it asked), then it overtakes the rest.
    assert first_poll + 5 <= order.index("poll 2") <= first_poll + 6, order


async def test_a_due_poll_gets_the_next_turn_despite_people_waiting() -> None:
    """A poll asked with its deadline passed goes before the people and keep-alives
    queued ahead of it (at most one of them in between), while a poll asked without
    one (queued earlier) still waits behind them by priority."""
    pacing = PacingPolicy(command_interval=0.1, camera_control_interval=0.1)
    scheduler = Scheduler(pacing)
    order: list[str] = []

    async def poll(name: str, due: float | None) -> None:
        await scheduler.turn(Lane.COMMAND, Priority.BACKGROUND, due=due)
        order.append(name)

    await scheduler.turn(Lane.COMMAND, Priority.USER)  # the lane is busy from here
    undue = asyncio.create_task(poll("undue poll", None))
    await asyncio.sleep(0)
    entries = [(f"user{index}", Priority.USER) for index in range(4)]
    entries += [(f"keepalive{index}", Priority.NORMAL) for index in range(4)]
    others = await _queue(scheduler, Lane.COMMAND, entries, order)
    due = asyncio.create_task(poll("due poll", scheduler.clock()))
    try:
        async with asyncio.timeout(10):
            await due
        assert order.index("due poll") <= 1, order
        assert "undue poll" not in order
    finally:
        for task in [undue, *others]:
            task.cancel()
        await asyncio.gather(undue, *others, return_exceptions=True)


async def test_a_held_poll_waits_for_its_time_while_the_lane_is_idle() -> None:
    """Asked early with ``not_before``: nobody else waits, so it starts at its time, not
    at once (a poll keeps its interval on an idle recorder)."""
    scheduler = Scheduler(PACING)
    spacing = Scheduler.spacing(PACING.command_interval)
    asked = scheduler.clock()
    on_time = asked + 4 * spacing
    started = await scheduler.turn(
        Lane.COMMAND, Priority.BACKGROUND, due=Deadline(due=asked, not_before=on_time)
    )
    assert started >= on_time


async def test_a_held_poll_goes_right_after_its_time_among_people() -> None:
    """People queued while a held poll waits: promoted long before, it still takes no
    turn before its time (a poll asked early keeps its interval while cameras start),
    and yields to people until two spacings past its time, then goes."""
    scheduler = Scheduler(PACING)
    spacing = Scheduler.spacing(PACING.command_interval)
    order: list[str] = []
    now = scheduler.clock()
    deadline = Deadline(due=now + spacing, not_before=now + 6 * spacing)

    async def poll() -> float:
        started = await scheduler.turn(Lane.COMMAND, Priority.BACKGROUND, due=deadline)
        order.append("poll")
        return started

    held = asyncio.create_task(poll())
    await asyncio.sleep(0)
    people = await _queue(
        scheduler, Lane.COMMAND, [(f"user{i}", Priority.USER) for i in range(12)], order
    )
    started = await held
    await asyncio.gather(*people)
    # Not early (a lower bound: a loaded machine only delays turns), and not after all.
    assert started >= deadline.not_before  # type: ignore[operator]
    assert 7 <= order.index("poll") <= 9, order


async def test_a_held_poll_takes_its_last_turn_ahead_of_stops_and_keep_alives() -> None:
    """Nobody waits but requests of no person (STOPs, keep-alives, a login in the
    background): the held poll takes the last turn that starts by its time."""
    scheduler = Scheduler(PACING)
    spacing = Scheduler.spacing(PACING.command_interval)
    order: list[str] = []
    now = scheduler.clock()
    deadline = Deadline(due=now + spacing, not_before=now + 6 * spacing)

    async def poll() -> float:
        started = await scheduler.turn(Lane.COMMAND, Priority.BACKGROUND, due=deadline)
        order.append("poll")
        return started

    held = asyncio.create_task(poll())
    await asyncio.sleep(0)
    others = await _queue(
        scheduler, Lane.COMMAND, [(f"stop{i}", Priority.NORMAL) for i in range(12)], order
    )
    started = await held
    await asyncio.gather(*others)
    assert deadline.not_before - spacing < started, order  # type: ignore[operator]
    assert 4 <= order.index("poll") <= 6, order
