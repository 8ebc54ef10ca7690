"""Stopping a long-running command on SIGINT/SIGTERM without the deadlock of setting an Event in a signal handler."""

from __future__ import annotations

import signal
import threading


def stop_on_signals(stop: threading.Event) -> None:
    """Set `stop` when SIGINT or SIGTERM arrives (once, however many arrive).

    `Event.set()` takes the Event's lock. A handler runs on the main thread between two bytecodes, and that thread
    may be holding the very lock (inside `stop.wait()`, or inside an earlier handler's `set()`): a second signal
    then waits for itself for ever. So the handler only records the request and sets the Event from another thread.
    """
    requested: list[bool] = []

    def handler(signum: int, frame: object) -> None:
        if not requested:
            requested.append(True)
            threading.Thread(target=stop.set, name="stop-on-signal", daemon=True).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
