"""Work on large bodies (parsing, scoring, writing the answer) off the event loop, one at a time.

One event loop answers every request: a 1 MiB body parsed, validated and answered on it (up to
0.3 s of CPU) holds up every other request meanwhile, /health included. A thread alone does
not fix that: the GIL lets one thread run Python at a time, and with 64 such bodies on 64
threads the loop would get the GIL once in 65 turns. So the work of a body of OFF_LOOP_BYTES
or more runs on one thread, one request at a time, the others waiting their turn as
coroutines (their bodies already read, nothing parsed): the loop takes the GIL back at least
every switch interval and answers /health between two turns of the work. Smaller
bodies (one company is 300 bytes; 16 KiB is about 50) cost less than the hop to a thread and
run in place. The switch interval is 1 ms here, not Python's 5: a request on the loop takes
the GIL several times (its bytes arrive, its task runs, its answer goes out), and waits up to
an interval each time while the work thread runs.

When the last turn ends, the C heap's free pages go back to the system (glibc's malloc_trim):
1 MiB bodies and their parsed rows are freed into malloc's arenas, which otherwise keep them,
so the worker's VmRSS stayed where 64 large requests had taken it.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

OFF_LOOP_BYTES = 16 * 1024
SWITCH_SECONDS = 0.001

Run = Callable[..., Awaitable[Any]]


def _trimmer() -> Callable[[int], Any] | None:
    """glibc's malloc_trim(0), or None where the C library has none (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_trim", None)
    except OSError:
        return None


_TRIM = _trimmer()


async def _in_place(call: Callable[..., Any], *args: Any) -> Any:
    return call(*args)


class HeavyWork:
    def __init__(self) -> None:
        # Made in gunicorn's master before the fork: the thread starts on first use, in the worker,
        # and the semaphore binds to the worker's loop on first use.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heavy")
        self._turn = asyncio.Semaphore(1)
        self._wanted = 0  # requests holding or waiting for a turn
        sys.setswitchinterval(SWITCH_SECONDS)  # the process's, set once: one instance per worker

    @asynccontextmanager
    async def turn(self, size: int) -> AsyncIterator[Run]:
        """A run(call, *args) for the work on a body of `size` bytes: in place for a small body;
        for a large one on the work thread, once this request's turn has come (held until the
        block ends, so a request's parsed body and answer are in memory only during its turn)."""
        if size < OFF_LOOP_BYTES:
            yield _in_place
            return
        loop = asyncio.get_running_loop()

        async def on_thread(call: Callable[..., Any], *args: Any) -> Any:
            return await loop.run_in_executor(self._thread, call, *args)

        self._wanted += 1
        try:
            async with self._turn:
                yield on_thread
        finally:
            self._wanted -= 1
            if not self._wanted and _TRIM is not None:
                loop.run_in_executor(self._thread, _TRIM, 0)  # nothing waits for it
