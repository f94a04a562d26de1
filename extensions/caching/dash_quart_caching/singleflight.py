"""Single-flight: concurrent misses for one key compute the value once.

In a process, the first caller of a key leads and the others await its outcome. Across
processes, the leader also takes a lock in the backend (``SET NX PX`` with a token on
Redis); callers in other processes poll the cache until the value appears, the lock frees
up, or the lease runs out, so a holder that crashed cannot wedge the key.
"""

from __future__ import annotations

import asyncio
import pickle
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from .backends.base import BaseCache

Lookup = Callable[[], Awaitable[tuple[bool, Any]]]

_POLL_FIRST = 0.005
_POLL_MAX = 0.1


class _Flight:
    __slots__ = ("future", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.future: asyncio.Future[_Outcome] = loop.create_future()
        self.waiters = 0


class _Outcome:
    """What a leader hands its waiters: a pickled value, an error, or "try again"."""

    __slots__ = ("error", "kind", "payload")

    def __init__(
        self, kind: str, payload: bytes = b"", error: BaseException | None = None
    ) -> None:
        self.kind = kind
        self.payload = payload
        self.error = error


_RETRY = _Outcome("retry")
_UNSHARED = _Outcome("unshared")


class Plan:
    """The result of :meth:`SingleFlight.begin`: a hit, an error to raise, or a miss to fill.

    ``key`` is None when the value must be computed and not stored.
    """

    __slots__ = ("error", "flight", "found", "key", "token", "value")

    def __init__(
        self,
        key: str | None,
        found: bool = False,
        value: Any = None,
        *,
        error: BaseException | None = None,
        flight: _Flight | None = None,
        token: str | None = None,
    ) -> None:
        self.key = key
        self.found = found
        self.value = value
        self.error = error
        self.flight = flight
        self.token = token


def lock_key(key: str) -> str:
    return f"{key}::lock"


class SingleFlight:
    """The flights of one backend, per event loop."""

    def __init__(self, backend: BaseCache, *, enabled: bool, lease: float) -> None:
        self.backend = backend
        self.enabled = enabled and backend.stores
        self.lease = float(lease)
        self._flights: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, _Flight]
        ] = weakref.WeakKeyDictionary()

    def _table(self) -> dict[str, _Flight]:
        return self._flights.setdefault(asyncio.get_running_loop(), {})

    async def begin(self, key: str, lookup: Lookup) -> Plan:
        """Look ``key`` up, joining or leading the flight for it."""
        if not self.enabled:
            found, value = await lookup()
            return Plan(key, found, value)
        table = self._table()
        while (flight := table.get(key)) is not None:
            flight.waiters += 1
            try:
                outcome = await asyncio.wait_for(asyncio.shield(flight.future), self.lease)
            except asyncio.TimeoutError:
                return Plan(key)
            finally:
                flight.waiters -= 1
            if outcome.kind == "value":
                return Plan(key, True, pickle.loads(outcome.payload))
            if outcome.kind == "error":
                return Plan(key, error=outcome.error)
            if outcome.kind == "unshared":
                return Plan(None)
        flight = _Flight(asyncio.get_running_loop())
        table[key] = flight
        try:
            found, value = await lookup()
            token = None
            if not found and self.backend.shared:
                found, value, token = await self._acquire(key, lookup)
        except BaseException:
            self._settle(key, flight, _RETRY)
            raise
        if found:
            self._share(key, flight, value)
            return Plan(key, True, value)
        return Plan(key, flight=flight, token=token)

    async def _acquire(self, key: str, lookup: Lookup) -> tuple[bool, Any, str | None]:
        """Take the backend lock, or wait for its holder's value until the lease is over."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.lease
        delay = _POLL_FIRST
        while True:
            if await self.backend.acquire_lock(lock_key(key), token, self.lease):
                found, value = await lookup()
                if found:
                    await self.backend.release_lock(lock_key(key), token)
                    return True, value, None
                return False, None, token
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)
            found, value = await lookup()
            if found:
                return True, value, None
            if time.monotonic() >= deadline:
                return False, None, None

    async def release(self, plan: Plan) -> None:
        """Free the backend lock a leader took, if any."""
        if plan.token is not None and plan.key is not None:
            token, plan.token = plan.token, None
            await self.backend.release_lock(lock_key(plan.key), token)

    def finish(self, plan: Plan, value: Any, *, shareable: bool = True) -> None:
        """Hand the leader's value (in its stored form) to the callers waiting for it.

        When it is not ``shareable`` (a streamed response, say), they compute their own.
        """
        if plan.flight is not None and plan.key is not None:
            if shareable:
                self._share(plan.key, plan.flight, value)
            else:
                self._settle(plan.key, plan.flight, _UNSHARED)

    def fail(self, plan: Plan, error: BaseException) -> None:
        """Hand the leader's exception to its waiters, or let them retry if it was cancelled."""
        if plan.flight is not None and plan.key is not None:
            if isinstance(error, Exception):
                outcome = _Outcome("error", error=error)
            else:
                outcome = _RETRY
            self._settle(plan.key, plan.flight, outcome)

    def _share(self, key: str, flight: _Flight, value: Any) -> None:
        outcome = _UNSHARED
        if flight.waiters:
            try:
                outcome = _Outcome("value", pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
            except Exception:
                outcome = _UNSHARED
        self._settle(key, flight, outcome)

    def _settle(self, key: str, flight: _Flight, outcome: _Outcome) -> None:
        table = self._table()
        if table.get(key) is flight:
            del table[key]
        if not flight.future.done():
            flight.future.set_result(outcome)
