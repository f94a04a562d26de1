"""The bounded thread pool behind sync callbacks, sync views and bridged Flask views."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dash_quart.concurrency import SyncPool

DEADLINE = 5.0


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture(name="pool")
def _pool() -> SyncPool:
    pool = SyncPool(3)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


async def test_call_runs_in_a_named_pool_thread_and_returns(pool: SyncPool) -> None:
    name = await pool.call(lambda: threading.current_thread().name)
    assert name.startswith("dash-quart-sync_")
    assert name != threading.current_thread().name
    assert await pool.call(divmod, 17, 5) == (3, 2)


async def test_errors_reach_the_awaiting_task(pool: SyncPool) -> None:
    def fail() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        await pool.call(fail)

    def stop() -> None:
        raise StopIteration  # an asyncio future cannot hold it

    with pytest.raises(RuntimeError, match="StopIteration raised in the thread pool"):
        await pool.call(stop)
    assert await pool.call(int, "4") == 4  # the thread survived both


async def test_no_more_threads_than_max_workers_run_at_once(pool: SyncPool) -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    started = time.monotonic()
    await asyncio.gather(*(pool.call(work) for _ in range(12)))
    assert peak == 3
    assert len(pool._threads) == 3
    assert time.monotonic() - started >= 4 * 0.02  # 12 calls, 3 at a time


async def test_an_idle_thread_is_reused_before_a_new_one_starts(pool: SyncPool) -> None:
    names = {await pool.call(lambda: threading.current_thread().name) for _ in range(20)}
    assert len(names) == 1
    assert len(pool._threads) == 1


async def test_a_call_cancelled_before_it_starts_never_runs() -> None:
    pool = SyncPool(1)
    release = threading.Event()
    ran: list[str] = []
    first = asyncio.ensure_future(pool.call(release.wait, DEADLINE))
    await _until(lambda: len(pool._threads) == 1 and pool._jobs.empty(), "the first call to start")
    second = asyncio.ensure_future(pool.call(ran.append, "second"))
    await asyncio.sleep(0)
    second.cancel()
    release.set()
    assert await first is True
    with pytest.raises(asyncio.CancelledError):
        await second
    pool.shutdown(wait=True)  # the queue is worked off before the threads end
    assert ran == []


async def test_a_call_whose_task_is_cancelled_while_running_finishes(pool: SyncPool) -> None:
    release = threading.Event()
    done: list[bool] = []

    def slow() -> None:
        release.wait(DEADLINE)
        done.append(True)

    task = asyncio.ensure_future(pool.call(slow))
    await _until(lambda: len(pool._threads) == 1 and pool._jobs.empty(), "the call to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await _until(lambda: done == [True], "the running call to finish")
    assert await pool.call(int, "7") == 7


async def test_submit_and_run_in_executor_work_as_on_any_executor(pool: SyncPool) -> None:
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(pool, pow, 2, 10) == 1024
    assert pool.submit(divmod, 7, 2).result(timeout=DEADLINE) == (3, 1)
    assert list(pool.map(abs, [-1, -2, 3], timeout=DEADLINE)) == [1, 2, 3]
    failed = pool.submit(int, "x")
    with pytest.raises(ValueError):
        failed.result(timeout=DEADLINE)


async def test_shutdown_cancels_queued_work_and_refuses_more() -> None:
    pool = SyncPool(1)
    release = threading.Event()
    ran: list[str] = []
    running = pool.submit(release.wait, DEADLINE)
    _wait_until(lambda: running.running(), "the first job to start")
    queued = pool.submit(ran.append, "submitted")
    waiting = asyncio.ensure_future(pool.call(ran.append, "called"))
    await asyncio.sleep(0)

    pool.shutdown(wait=False, cancel_futures=True)

    assert queued.cancelled()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(int)
    with pytest.raises(RuntimeError, match="shut down"):
        await pool.call(int)
    release.set()
    assert running.result(timeout=DEADLINE) is True
    _wait_until(lambda: not any(t.is_alive() for t in pool._threads), "the thread to end")
    assert ran == []


def test_shutdown_lets_queued_work_finish_by_default() -> None:
    pool = SyncPool(2)
    futures = [pool.submit(time.sleep, 0.01) for _ in range(6)]
    pool.shutdown(wait=True)
    assert all(f.done() and not f.cancelled() for f in futures)
    assert not any(t.is_alive() for t in pool._threads)


def test_a_forgotten_pool_ends_its_threads() -> None:
    pool = SyncPool(2)
    assert pool.submit(int, "1").result(timeout=DEADLINE) == 1
    threads = list(pool._threads)
    del pool
    gc.collect()
    _wait_until(lambda: not any(t.is_alive() for t in threads), "the threads to end")


def test_max_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        SyncPool(0)


async def test_many_results_at_once_each_reach_their_own_task(pool: SyncPool) -> None:
    def slow_square(n: int) -> int:
        time.sleep(0.001)
        return n * n

    results = await asyncio.gather(*(pool.call(slow_square, n) for n in range(200)))
    assert results == [n * n for n in range(200)]


def test_one_pool_serves_several_event_loops() -> None:
    pool = SyncPool(4)
    errors: list[BaseException] = []
    totals: dict[int, int] = {}

    def run_loop(offset: int) -> None:
        async def main() -> int:
            values = await asyncio.gather(*(pool.call(int, str(offset + n)) for n in range(100)))
            return sum(values)

        try:
            totals[offset] = asyncio.run(main())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [
        threading.Thread(target=run_loop, args=(k * 1000,), daemon=True) for k in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert not any(thread.is_alive() for thread in threads)
    pool.shutdown(wait=True)
    assert errors == []
    assert totals == {k * 1000: 100 * k * 1000 + sum(range(100)) for k in range(3)}


async def test_results_that_arrive_while_the_loop_is_busy_share_one_wake_up(
    pool: SyncPool,
) -> None:
    loop = asyncio.get_running_loop()
    wake_ups = 0
    plain = loop.call_soon_threadsafe

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal wake_ups
        wake_ups += 1
        return plain(*args, **kwargs)

    finished = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal finished
        with lock:
            finished += 1
        return n

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
    try:
        calls = [asyncio.ensure_future(pool.call(work, n)) for n in range(20)]
        await asyncio.sleep(0)  # every call is queued
        assert pool._inbox is not None
        inbox = pool._inbox
        # The loop is held here until every result waits in the inbox.
        _wait_until(lambda: finished == 20 and len(inbox._items) == 20, "the results")
        assert await asyncio.gather(*calls) == list(range(20))
    finally:
        del loop.call_soon_threadsafe
    assert wake_ups == 1


def test_a_forgotten_pool_in_a_reference_cycle_ends_its_threads() -> None:
    class Owner:
        def __init__(self) -> None:
            self.me = self
            self.pool = SyncPool(2)

    owner = Owner()
    assert owner.pool.submit(int, "1").result(timeout=DEADLINE) == 1
    threads = list(owner.pool._threads)
    del owner
    gc.collect()
    _wait_until(lambda: not any(t.is_alive() for t in threads), "the threads to end")


def test_shutdown_cancelling_queued_work_races_no_thread() -> None:
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take jobs while shutdown empties the queue
    try:
        for _ in range(300):  # the race came up in about 1 of 100 shutdowns
            pool = SyncPool(8)
            futures = [pool.submit(time.sleep, 0) for _ in range(200)]
            pool.shutdown(wait=True, cancel_futures=True)
            assert all(f.done() for f in futures)
            assert not any(t.is_alive() for t in pool._threads)
    finally:
        sys.setswitchinterval(switch)


def test_work_running_at_interpreter_exit_finishes(tmp_path: Path) -> None:
    done = tmp_path / "done"
    script = f"""
import threading, time
from pathlib import Path
from dash_quart.concurrency import SyncPool

started = threading.Event()

def job():
    started.set()
    time.sleep(0.3)
    Path({str(done)!r}).write_text("finished")

pool = SyncPool(1)
pool.submit(job)
started.wait(5)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert done.read_text() == "finished"
