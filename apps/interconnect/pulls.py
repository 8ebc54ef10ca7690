"""The pull machinery every domain pull shares: a `PullJob` base (one SyncRun row per run, its counts, outcome and
error, the operator's client, the lease heartbeat) in the spirit of NetBox's JobRunner.

A domain app subclasses PullJob in its own `pulls.py`, says when its pull is due and what a run does, and registers
it with `@pull_job`; scheduling.py dispatches what is due, under a lease, with retries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils import timezone

from apps.core.metrics import pull_finished
from apps.operators.models import Operator
from apps.protocol import ClientError, PeerClient, TransientError
from apps.protocol.schema import Problem
from apps.protocol.text import safe_text, storable

from .choices import RunStatus
from .client import last_exchange, operator_client
from .models import Exchange, PullState, RejectedRecord, SyncRun

logger = logging.getLogger(__name__)

Heartbeat = Callable[[], None]  # called after every page, so a long pull can renew its lease


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One pull to run: which operator, which interface, its options (a full crawl, the statistics' day) and how
    long the message stays worth running: one older than this is dropped by the worker, because the next dispatch
    will have sent a fresh one (a backed-up queue must not replay a day of stale sweeps)."""

    operator_id: str
    interface: str
    options: dict[str, Any] = field(default_factory=dict)
    expires: float = 3600.0

    @property
    def full(self) -> bool:
        return bool(self.options.get("full"))

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"operator_id": self.operator_id, "interface": self.interface, **self.options}


def _finish(run: SyncRun, *, error: str = "", retryable: bool = False) -> SyncRun:
    run.status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    run.error = error
    run.retryable = retryable
    run.finished = timezone.now()
    run.save()
    if not error and run.full:
        PullState.objects.filter(operator_id=run.operator_id, interface=run.interface).update(
            full_succeeded_at=run.finished
        )
    pull_finished(run.operator_id, run.interface, failed=bool(error))
    return run


@contextmanager
def _recording(run: SyncRun) -> Iterator[None]:
    """Finish the run whatever happens: a pull never leaves a run RUNNING, and never raises to its caller."""
    try:
        yield
    except ClientError as exc:
        _finish(run, error=f"{type(exc).__name__}: {exc}", retryable=isinstance(exc, TransientError))
    except Exception as exc:
        logger.exception("%s from %s failed", run.interface, run.operator_id)
        _finish(run, error=f"{type(exc).__name__}: {exc}")
    except BaseException as exc:  # Ctrl-C, a worker shutting down: the run ends here too, then the signal goes on
        _finish(run, error=f"{type(exc).__name__}: 拉取被中断")
        raise
    else:
        _finish(run)


class PullJob:
    """One kind of pull from operator platforms. A subclass sets `interface` (and `options`, the keyword options a
    run takes), implements `due()` and `run()`; `handle()` runs it with its SyncRun row, client and heartbeat."""

    interface: ClassVar[str]
    options: ClassVar[tuple[str, ...]] = ()
    # Another pull whose first successful run this one waits for (status sweeps ask about a crawled directory).
    after: ClassVar[str | None] = None

    def __init__(
        self, *, operator: Operator, run: SyncRun, client: PeerClient | None, heartbeat: Heartbeat | None
    ) -> None:
        self.operator = operator
        self.sync_run = run
        self.client = client
        self._heartbeat = heartbeat

    # -- what a subclass provides -------------------------------------------------------------------------------------

    @classmethod
    def due(cls, operator: Operator, state: PullState | None, now: dt.datetime) -> Dispatch | None:
        """The dispatch of this pull for `operator` if it is due at `now` by the operator's own intervals."""
        raise NotImplementedError

    @classmethod
    def marks(cls, options: dict[str, Any]) -> tuple[str, ...]:
        """The PullState fields a dispatch with these options sets (and a dispatch that did not run clears)."""
        return ("dispatched_at",)

    @classmethod
    def begin(cls, operator: Operator, **options: Any) -> SyncRun:
        """The run's row, created before anything is asked (a subclass adds what it knows up front)."""
        return SyncRun.objects.create(operator=operator, interface=cls.interface)

    def run(self, **options: Any) -> None:
        """Ask, store, count into `self.sync_run`; raise ClientError for a run that must fail."""
        raise NotImplementedError

    # -- the machinery -----------------------------------------------------------------------------------------------

    @classmethod
    def handle(cls, *, operator: Operator, heartbeat: Heartbeat | None = None, **options: Any) -> SyncRun:
        """Run one pull now: a SyncRun row whatever happens, finished with its outcome; never raises."""
        options = {name: value for name, value in options.items() if name in cls.options}
        run = cls.begin(operator, **options)
        with _recording(run), operator_client(operator) as client:
            cls(operator=operator, run=run, client=client, heartbeat=heartbeat).run(**options)
        return run

    def beat(self) -> None:
        """After each page: renews the lease (and stops the run if another took it)."""
        if self._heartbeat is not None:
            self._heartbeat()

    @property
    def last_message(self) -> Exchange | None:
        """The journal row of the latest answer: the message a page's records came in."""
        return last_exchange(self.client) if self.client is not None else None

    def rejected(
        self, key: Any, record: Any, problems: Iterable[Problem], *, exchange: Exchange | None = None
    ) -> RejectedRecord:
        """A RejectedRecord (unsaved) for a record that broke rules, naming its message: `exchange`, else the last
        answer of the run's client."""
        problems = list(problems)
        run = self.sync_run
        return RejectedRecord(
            operator_id=run.operator_id,
            run=run,
            exchange=exchange or self.last_message,
            interface=run.interface,
            record_key=safe_text(str(key), 64),
            rules=sorted({p.rule for p in problems}),
            reasons=[p.message for p in problems][:50],
            payload=storable(record),  # as received, made storable (NUL, surrogates, Decimals, depth)
        )
