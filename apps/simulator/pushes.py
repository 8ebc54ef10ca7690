"""Pushes to the portal: a simulated-time queue, background senders, retry schedules, push faults and dialects."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from json import dumps as json_dumps
from json import loads as json_loads
from typing import Any

import requests

from apps.protocol import (
    STANDARD,
    ClientError,
    Dialect,
    KeySet,
    MemoryTokenStore,
    PeerClient,
    SeqGenerator,
    parse_timestamp,
    sign_request,
)
from apps.protocol.dialect import SERVICE_ALIASES

from .clock import SimClock
from .faults import Faults

logger = logging.getLogger(__name__)

# Retry delays (seconds of simulated time) after the 1st, 2nd, … failed attempt.
ORDER_RETRIES: tuple[float, ...] = (15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600)
# Beijing bonus orders: "150/300/…/1800/3600/…" read as 150-s steps up to 1800 s, then hourly for a day.
BONUS_RETRIES: tuple[float, ...] = tuple(range(150, 1801, 150)) + (3600.0,) * 24
# Part 4 §4.6 (final text): resend more than 3 times, about a minute apart.
GENERIC_RETRIES: tuple[float, ...] = (60, 60, 60)

# What counts as delivered, per kind of push.
STATUS = "status"  # notification_stationStatus: any Ret 0 (Status 1 = "ignored, do not retry")
RESULT = "result"  # start/stop results: SuccStat 0
SNAPSHOT = "snapshot"  # charging status: never retried, the next one follows in 50 s
ORDER = "order"  # notification_charge_order_info: a ConfirmResult (0, or a definitive dispute)
BONUS = "bonus"  # notification_charge_order_info_for_bonus: ConfirmResult 0
CHECK = "check"  # check_charge_orders: Ret 0

RETRIES: Mapping[str, tuple[float, ...]] = {
    STATUS: GENERIC_RETRIES,
    RESULT: GENERIC_RETRIES,
    SNAPSHOT: (),
    ORDER: ORDER_RETRIES,
    BONUS: BONUS_RETRIES,
    CHECK: GENERIC_RETRIES,
}

# Standard spelling → the variant a service_spelling peer uses (the codec maps the other way on input).
_VARIANT_SPELLING = {standard: variant for variant, standard in SERVICE_ALIASES.items()}


def to_variant_spelling(value: Any) -> Any:
    """Rename SevicePrice/SeviceMoney/…/ElecMoney to ServicePrice/ServiceMoney/…/ElectMoney, recursively."""
    if isinstance(value, dict):
        return {_VARIANT_SPELLING.get(k, k): to_variant_spelling(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_variant_spelling(item) for item in value]
    return value


class DialectSession(requests.Session):
    """A requests session that rewrites each envelope the codec's PeerClient built into the peer's dialect.

    PeerClient always sends the standard form; a real deviant platform does not, so the deviation is applied on the
    way out: lowercase Sig, a bare token without "Bearer ", and epoch-millisecond TimeStamps (re-signed, since the
    Sig covers the TimeStamp as sent).
    """

    def __init__(self, dialect: Dialect, keys: KeySet) -> None:
        super().__init__()
        self.dialect = dialect
        self.keys = keys

    def post(self, url: str | bytes, data: Any = None, json: Any = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.dialect.bare_token and headers.get("Authorization", "").startswith("Bearer "):
            headers["Authorization"] = headers["Authorization"][len("Bearer ") :]
        if isinstance(data, bytes) and (
            self.dialect.millisecond_timestamp or self.dialect.lowercase_sig or self.dialect.lowercase_keys
        ):
            data = self._rewrite(data)
        return super().post(url, data=data, json=json, headers=headers, **kwargs)

    def _rewrite(self, body: bytes) -> bytes:
        envelope = json_loads(body)
        if self.dialect.millisecond_timestamp:
            millis = int(parse_timestamp(envelope["TimeStamp"]).timestamp()) * 1000 + int(envelope["Seq"]) % 1000
            envelope["TimeStamp"] = str(millis)
            envelope["Sig"] = sign_request(
                self.keys.sig_secret, envelope["OperatorID"], envelope["Data"], envelope["TimeStamp"], envelope["Seq"]
            )
        if self.dialect.lowercase_sig:
            envelope["Sig"] = envelope["Sig"].lower()
        if self.dialect.lowercase_keys:  # operatorID, data, timeStamp, seq, sig
            envelope = {key[:1].lower() + key[1:]: value for key, value in envelope.items()}
        return json_dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(order=True)
class PushJob:
    """One message to deliver; ordered by due time (simulated epoch seconds), then by creation order."""

    due: float
    order: int
    interface: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False)
    kind: str = field(compare=False)
    key: str = field(compare=False, default="")
    attempt: int = field(compare=False, default=0)


@dataclass(frozen=True, slots=True)
class PushRecord:
    """What happened to one attempt: outcome is delivered / retry / gave_up / dropped / duplicate / shed."""

    interface: str
    key: str
    attempt: int
    outcome: str
    sim_time: float
    payload: dict[str, Any]
    response: dict[str, Any] | None = None
    error: str | None = None


class Pusher:
    """Delivers pushes in simulated-time order on background threads, retrying each kind on its own schedule."""

    def __init__(
        self,
        *,
        portal_url: str,
        operator_id: str,
        keys: KeySet,
        clock: SimClock,
        wall: Callable[[], datetime],
        faults: Faults,
        dialect: Dialect = STANDARD,
        workers: int = 1,
        max_pending: int = 100_000,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.dialect = dialect
        self.workers = max(1, workers)
        self.max_pending = max_pending
        # One client (and HTTP session) per worker: requests sessions are not guaranteed thread-safe.
        tokens = MemoryTokenStore()
        seqs = SeqGenerator(clock=wall)  # the skewed wall clock under the clock_skew fault
        self._clients = [
            PeerClient(
                portal_url,
                operator_id,
                keys,
                tokens,
                session=DialectSession(dialect, keys),
                seq_generator=seqs,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            )
            for _ in range(self.workers)
        ]
        self._queue: list[PushJob] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._inflight = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self.records: deque[PushRecord] = deque(maxlen=20_000)
        self.counts: Counter[str] = Counter()
        # Every push the portal answered Ret 0 (a verified answer), by interface, with what identifies it: what a
        # soak compares with the rows the portal stored (apps/demo/soak.py). Resends and duplicates count each time.
        self.acks: dict[str, list[str]] = {}

    # -- queue ------------------------------------------------------------------------------------------------------

    def enqueue(self, interface: str, payload: dict[str, Any], *, kind: str, due: float, key: str = "") -> None:
        with self._cond:
            if kind in (STATUS, SNAPSHOT) and len(self._queue) >= self.max_pending:
                # A portal that is down must not make us hoard millions of stale status changes.
                self.counts["shed"] += 1
                return
            heapq.heappush(self._queue, PushJob(due, next(self._counter), interface, payload, kind, key))
            self._cond.notify_all()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the senders while several pushes are queued, so they become visible together and go out in due order
        (the condition's lock is re-entrant, so enqueue() works inside)."""
        with self._cond:
            yield

    def history(self) -> list[PushRecord]:
        """A copy of the recent attempt records (the deque is appended to by the workers)."""
        with self._cond:
            return list(self.records)

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._inflight

    def next_due(self) -> float | None:
        with self._cond:
            return self._queue[0].due if self._queue else None

    def wake(self) -> None:
        """Simulated time jumped: let idle workers look at the queue again."""
        with self._cond:
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing due now is queued or in flight (retries scheduled later stay queued)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._inflight or (self._queue and self._queue[0].due <= self.clock.time()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    # -- workers ----------------------------------------------------------------------------------------------------

    def start(self) -> None:
        for index, client in enumerate(self._clients):
            thread = threading.Thread(target=self._run, args=(client,), name=f"simulator-push-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def connect(self) -> None:
        """Fetch a token now, in the background, as a platform coming up does before its first push: the portal sees
        it connect (the onboarding check "token（运营商 → 平台）") before the first status happens to change."""
        threading.Thread(target=self._connect, name="simulator-token", daemon=True).start()

    def _connect(self) -> None:
        client = self._clients[0]
        try:
            with client.token_store.lock(client.token_key):  # the push workers' own fetch waits for this one
                if client.token_store.get(client.token_key) is None:
                    client.token_store.set(client.token_key, *client.authenticate())
        except ClientError as exc:  # the portal not up yet: the first push fetches it then
            logger.info("no token from the portal yet: %s", exc)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        for client in self._clients:
            client.close()

    def _take(self) -> list[PushJob] | None:
        """Wait for due work; returns the jobs to send in order (two of them, swapped, under reorder_push)."""
        with self._cond:
            while not self._stopping:
                if self._queue and self._queue[0].due <= self.clock.time():
                    first = heapq.heappop(self._queue)
                    jobs = [first]
                    if self._queue and self._queue[0].due <= self.clock.time() and self.faults.roll("reorder_push"):
                        jobs.insert(0, heapq.heappop(self._queue))
                    self._inflight += len(jobs)
                    return jobs
                # Simulated time moves without notifying us (speed > 0): poll briefly rather than compute a wake-up.
                self._cond.wait(0.05)
            return None

    def _run(self, client: PeerClient) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                return
            for job in jobs:
                try:
                    self._deliver(client, job)
                except Exception:  # a bug in one push must not kill the worker and silently stop all pushing
                    logger.exception("push %s failed unexpectedly", job.interface)
                finally:
                    with self._cond:
                        self._inflight -= 1
                        self._cond.notify_all()

    def _record(
        self, job: PushJob, outcome: str, response: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        record = PushRecord(
            job.interface, job.key, job.attempt, outcome, self.clock.time(), job.payload, response, error
        )
        with self._cond:  # several workers record at once
            self.counts[outcome] += 1
            self.records.append(record)

    def _ack(self, job: PushJob) -> None:
        with self._cond:
            self.acks.setdefault(job.interface, []).append(push_identity(job.payload))

    def _deliver(self, client: PeerClient, job: PushJob) -> None:
        if self.faults.roll("drop_push"):
            self._record(job, "dropped")
            return
        payload = to_variant_spelling(job.payload) if self.dialect.service_spelling else job.payload
        response: dict[str, Any] | None = None
        error: str | None = None
        try:
            response = client.call(job.interface, payload)
            self._ack(job)
        except ClientError as exc:
            error = str(exc)
        if self.faults.roll("duplicate_push"):
            try:
                duplicate = client.call(job.interface, payload)
                self._ack(job)
                self._record(job, "duplicate", duplicate)
            except ClientError as exc:
                self._record(job, "duplicate", error=str(exc))
        if error is None and response is not None and _accepted(job.kind, response):
            self._record(job, "delivered", response)
            return
        retries = RETRIES[job.kind]
        if job.attempt < len(retries):
            self._record(job, "retry", response, error)
            with self._cond:
                job.due = self.clock.time() + retries[job.attempt]
                job.attempt += 1
                job.order = next(self._counter)
                heapq.heappush(self._queue, job)
        else:
            self._record(job, "gave_up", response, error)


def push_identity(payload: Mapping[str, Any]) -> str:
    """What names one push: the connector of a status, the session of a result or an order, the reconciliation."""
    status = payload.get("ConnectorStatusInfo")
    if isinstance(status, Mapping):
        return str(status.get("ConnectorID", ""))
    return str(payload.get("StartChargeSeq") or payload.get("CheckOrderSeq") or "")


def _accepted(kind: str, response: Mapping[str, Any]) -> bool:
    if kind == RESULT:
        return response.get("SuccStat") == 0
    if kind == ORDER:
        return isinstance(response.get("ConfirmResult"), int)
    if kind == BONUS:
        return response.get("ConfirmResult") == 0
    return True  # STATUS (Status 0 or 1), SNAPSHOT and CHECK: a verified Ret 0 is enough
