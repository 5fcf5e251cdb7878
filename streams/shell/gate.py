"""Who may change the dedup state when: many mutators at once, or one snapshot alone.

The agent (one batch) and the index replica (one fetched batch of log records) change the
state; on the event loop their synchronous steps never interleave, so they share the gate.
A snapshot takes it exclusively: no batch is half applied (the replica's offsets then say
exactly which records the state holds), and nothing changes the arrays while a thread
writes them. Once a snapshot waits, new mutators wait behind it, so it is not starved.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class StateGate:
    """A shared/exclusive gate for the event loop (not for threads)."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._active = 0
        self._exclusive = False

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._condition:
            await self._condition.wait_for(lambda: not self._exclusive)
            self._active += 1
        try:
            yield
        finally:
            async with self._condition:
                self._active -= 1
                self._condition.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._condition:
            await self._condition.wait_for(lambda: not self._exclusive)
            self._exclusive = True
            await self._condition.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            async with self._condition:
                self._exclusive = False
                self._condition.notify_all()
