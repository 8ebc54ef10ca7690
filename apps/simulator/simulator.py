"""The simulated operator platform: state, simulated-time events (sessions, status changes, churn), HTTP server."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from apps.protocol import CST, format_datetime, format_timestamp, now
from apps.protocol.names import Interface, StartFailReason, StopFailReason

from .clock import SimClock
from .config import SimulatorConfig
from .directory import (
    CHARGING,
    FAULT,
    IDLE,
    LOCK_CLOSED,
    LOCK_OPEN,
    OFFLINE,
    PARK_FREE,
    PARK_TAKEN,
    PLUGGED,
    RESERVED,
    Connector,
    Directory,
    local_day,
    status_info,
)
from .pushes import BONUS, CHECK, ORDER, RESULT, SNAPSHOT, STATUS, Pusher
from .seeding import seeded, stable_unit
from .server import SimulatorHTTPServer
from .sessions import (
    MODEL_APP,
    MODEL_CARD,
    MODEL_PORTAL,
    SEQ_CHARGING,
    SEQ_FINISHED,
    SEQ_STARTING,
    SEQ_STOPPING,
    SEQ_UNKNOWN,
    STOP_BMS,
    STOP_DISCONNECTED,
    STOP_FAULT,
    STOP_PLATFORM,
    STOP_USER,
    ChargeSession,
    EnergyLedger,
)

logger = logging.getLogger(__name__)

# Relative arrival rate of walk-in drivers per hour of the day: a morning and an evening bump, and a rush into the
# valley tariff at 23:00 (taxis and ride-hailing cars charge cheaply at night).
# fmt: off
ARRIVAL_PROFILE = (
    0.6, 0.4, 0.3, 0.25, 0.25, 0.35, 0.6, 1.0, 1.3, 1.2, 0.9, 1.0,
    1.3, 1.2, 1.0, 1.1, 1.3, 1.5, 1.4, 1.3, 1.3, 1.5, 1.6, 1.2,
)
# fmt: on
_PROFILE_MEAN = sum(ARRIVAL_PROFILE) / len(ARRIVAL_PROFILE)
_PROFILE_PEAK = max(ARRIVAL_PROFILE) / _PROFILE_MEAN
# Share of connectors busy at start-up for each hour, at the default walk-in rate.
# fmt: off
OCCUPANCY = (
    0.3, 0.3, 0.28, 0.25, 0.2, 0.15, 0.15, 0.18, 0.22, 0.25, 0.2, 0.2,
    0.22, 0.22, 0.2, 0.22, 0.25, 0.28, 0.25, 0.25, 0.28, 0.32, 0.35, 0.35,
)
# fmt: on
DEFAULT_WALKIN_RATE = 3.0
CHARGE_STATUS_INTERVAL = 50.0  # Beijing: charging status every 50 s while charging
DISAPPEAR_INTERVAL = 600.0
CHECK_HOUR = 1  # daily reconciliation runs between 00:00 and 03:00 (Beijing); we send at 01:00
FINISHED_KEPT = 10_000
# However little a battery needs, a session lasts minutes, not seconds: plugging in, the handshake and the ramp alone
# take that long, and a pile that billed a 76-second session would look broken on the portal's pages.
MIN_SESSION = 5 * 60.0
# A session the city platform started for a driver runs until the driver stops it, or until the car is full: never
# sooner than this, so the README's driver walk-through (start, watch, stop by hand) has time to be followed.
MIN_PORTAL_SESSION = 20 * 60.0

(
    E_ARRIVAL,
    E_INCIDENT,
    E_CHURN,
    E_DISAPPEAR,
    E_DAILY,
    E_WALKIN_START,
    E_SESSION_END,
    E_UNPLUG,
    E_RECOVER,
    E_PORTAL_START,
    E_SNAPSHOT,
    E_STOP_DONE,
    E_RECONCILE,
) = range(13)


OVERCHARGE = Decimal("1.2")  # the price_mismatch fault bills 20 % above the declared electricity price


class Simulator:
    """One operator platform: `start()` serves HTTP on a thread, `tick()`/`advance()` move the simulated world on.

    All state is in memory and guarded by one re-entrant lock; the HTTP threads, the ticking thread and the push
    workers only meet there and in the push queue.
    """

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        clock: SimClock | None = None,
        wall: Callable[[], datetime] = now,
    ) -> None:
        self.config = config
        self.faults = config.faults
        if clock is None and config.speed > 1:  # faster than real time: begun in the past, never past the present
            start = wall() - timedelta(seconds=config.behind)
            clock = SimClock(start, config.speed, ceiling=lambda: wall().timestamp())
        self.clock = clock or SimClock(speed=config.speed)
        skew = timedelta(seconds=self.faults.params.get("clock_skew", 0.0))
        # Transport time (TimeStamps, token lifetimes) follows the wall clock, off by the clock_skew fault if any.
        self.wall: Callable[[], datetime] = (lambda: wall() + skew) if skew else wall
        self.lock = threading.RLock()
        self.started_at = self.clock.time()
        self.directory = Directory(config.operator_id, config.seed, config.stations, self.started_at)
        self.ledger = EnergyLedger(config.seed, self.started_at)
        self.rng = seeded(config.seed, config.operator_id, "activity")
        self.sessions: dict[str, ChargeSession] = {}
        self.finished: OrderedDict[str, ChargeSession] = OrderedDict()
        self.portal_orders: list[ChargeSession] = []
        self.orders: deque[dict[str, Any]] = deque(maxlen=1000)
        self.disappeared: list[str] = []
        self._events: list[tuple[float, int, int, Any]] = []
        self._event_order = itertools.count()
        self._serials = itertools.count(1)
        self._tokens: dict[str, float] = {}
        self._seen: dict[tuple[str, str, str], float] = {}
        self._guard = threading.Lock()  # tokens and replay marks, touched on every request
        self.pusher: Pusher | None = None
        if config.push and config.portal_url:
            self.pusher = Pusher(
                portal_url=config.portal_url,
                operator_id=config.operator_id,
                keys=config.inbound,
                clock=self.clock,
                wall=self.wall,
                faults=self.faults,
                dialect=config.dialect,
                workers=config.push_workers,
                max_pending=config.max_pending_pushes,
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
            )
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._initialise(self.started_at)

    # -- life cycle -------------------------------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Bind and serve on a background thread; start the push workers."""
        self._server = SimulatorHTTPServer((self.config.host, self.config.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="simulator-http", daemon=True
        )
        self._thread.start()
        if self.pusher is not None:
            self.pusher.start()
            if self.config.token_at_start:
                self.pusher.connect()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.pusher is not None:
            self.pusher.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}{self.config.base_path}"

    def run(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Tick until `stop` is set (the management command's main loop)."""
        while not stop.wait(interval):
            self.tick()

    # -- simulated time ---------------------------------------------------------------------------------------------

    def tick(self) -> int:
        """Process every event due by the simulated now; returns how many ran."""
        moment = self.clock.time()
        count = 0
        with self.lock, self.pushes_held():
            while self._events and self._events[0][0] <= moment:
                at, _, kind, obj = heapq.heappop(self._events)
                self._dispatch(at, kind, obj)
                count += 1
        return count

    def pushes_held(self) -> AbstractContextManager[None]:
        """Release the pushes queued inside the block together, in due order (a tick's pushes never race its own)."""
        return self.pusher.held() if self.pusher is not None else nullcontext()

    def advance(self, seconds: float) -> int:
        """Move simulated time forward and run what fell due (events run at their own times, in order)."""
        self.clock.advance(seconds)
        count = self.tick()
        if self.pusher is not None:
            self.pusher.wake()  # retries queued earlier may have fallen due without anything new being queued
        return count

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every push due by now has been attempted."""
        return True if self.pusher is None else self.pusher.flush(timeout)

    def next_due(self) -> float | None:
        """Simulated time of the next scheduled event or push (tests jump straight there instead of stepping)."""
        with self.lock:
            due = [self._events[0][0]] if self._events else []
        if self.pusher is not None and (push_due := self.pusher.next_due()) is not None:
            due.append(push_due)
        return min(due, default=None)

    def _schedule(self, at: float, kind: int, obj: Any = None) -> None:
        heapq.heappush(self._events, (at, next(self._event_order), kind, obj))

    def _dispatch(self, at: float, kind: int, obj: Any) -> None:
        handler = self._HANDLERS[kind]
        handler(self, at, obj)

    # -- start-up ---------------------------------------------------------------------------------------------------

    def _initialise(self, start: float) -> None:
        cfg = self.config
        rng = self.rng
        activity = min(1.0, cfg.walkin_rate / DEFAULT_WALKIN_RATE)
        incidents = min(1.0, cfg.incident_rate / 0.02)
        busy = OCCUPANCY[datetime.fromtimestamp(start, CST).hour] * activity
        for connector in self.directory.connectors:
            connector.status_time = start - rng.uniform(0, 3600)
            if not connector.station.in_service:
                continue
            draw = rng.random()
            if draw < busy * 0.85:
                session = self._new_session(connector, rng.choice((MODEL_CARD, MODEL_APP)), start, start)
                session.state = SEQ_CHARGING
                duration = session.natural_end - session.start
                session.start = start - rng.uniform(0, 0.9) * duration  # it began before we started watching
                self._set_status(connector, CHARGING, start, push=False)
                self._schedule(session.natural_end, E_SESSION_END, (session, STOP_BMS))
            elif draw < busy:
                self._set_status(connector, PLUGGED, start, push=False)
                # Plugged in (or a fault, or offline) some time before we started watching: what is left of the
                # spell starts at zero, so a world started on the real clock changes from its first minute.
                self._schedule(start + rng.uniform(0, 900), E_UNPLUG, connector)
            elif draw < busy + 0.004 * incidents:
                self._set_status(connector, FAULT, start, push=False)
                self._schedule(start + rng.uniform(0, 6 * 3600), E_RECOVER, connector)
            elif draw < busy + 0.007 * incidents:
                self._set_status(connector, OFFLINE, start, push=False)
                self._schedule(start + rng.uniform(0, 2 * 3600), E_RECOVER, connector)
        if cfg.walkin_rate > 0:
            self._schedule(start + self._gap(cfg.walkin_rate * _PROFILE_PEAK), E_ARRIVAL)
        if cfg.incident_rate > 0:
            self._schedule(start + self._gap(cfg.incident_rate), E_INCIDENT)
        if cfg.churn_per_day > 0:
            self._schedule(start + rng.expovariate(cfg.churn_per_day / 86400), E_CHURN)
        if "disappearing_station" in self.faults:
            self._schedule(start + DISAPPEAR_INTERVAL, E_DISAPPEAR)
        self._schedule(self._next_check_time(start), E_DAILY)
        if cfg.reconcile_every > 0:
            self._schedule(start + cfg.reconcile_every, E_RECONCILE)

    def _gap(self, per_connector_per_day: float) -> float:
        """Exponential gap for a Poisson process over all connectors at the given per-connector daily rate."""
        rate = max(1, len(self.directory.connectors)) * per_connector_per_day / 86400
        return self.rng.expovariate(rate)

    @staticmethod
    def _next_check_time(after: float) -> float:
        local = datetime.fromtimestamp(after, CST)
        target = local.replace(hour=CHECK_HOUR, minute=0, second=0, microsecond=0)
        if target.timestamp() <= after:
            target += timedelta(days=1)
        return target.timestamp()

    # -- helpers ----------------------------------------------------------------------------------------------------

    def serial(self, at: float) -> str:
        """Our own 27-char serial: OperatorID + yyMMddHHmmss + 6-digit counter (the 18-char suffix is free-form)."""
        stamp = format_timestamp(datetime.fromtimestamp(at, CST))[2:]
        return f"{self.config.operator_id}{stamp}{next(self._serials) % 1_000_000:06d}"

    def _push(self, interface: str, payload: dict[str, Any], kind: str, due: float, key: str = "") -> None:
        if self.pusher is not None:
            self.pusher.enqueue(interface, payload, kind=kind, due=due, key=key)

    def _set_status(self, connector: Connector, status: int, at: float, *, push: bool = True) -> None:
        if connector.status == status:
            return
        connector.status = status
        connector.park = PARK_TAKEN if status in (PLUGGED, CHARGING, RESERVED) else PARK_FREE
        if connector.station.locks:
            connector.lock = LOCK_OPEN if connector.park == PARK_TAKEN else LOCK_CLOSED
        connector.status_time = at
        if push and not connector.station.removed:
            self._push(
                Interface.NOTIFICATION_STATION_STATUS, {"ConnectorStatusInfo": status_info(connector)}, STATUS, at
            )

    def _new_session(
        self, connector: Connector, model: int, accepted: float, at: float, seq: str = ""
    ) -> ChargeSession:
        rng = self.rng
        if connector.is_dc:
            kw = round(min(connector.power, rng.choice((60.0, 90.0, 120.0, 150.0))) * rng.uniform(0.75, 0.95), 1)
            capacity = rng.choice((50.0, 60.0, 70.0, 80.0))
            soc0 = rng.uniform(10, 50)
            target_kwh = min(rng.uniform(10, 55), capacity * (95 - soc0) / 100)
        else:
            kw = round(min(connector.power, 6.6) * rng.uniform(0.9, 1.0), 1)
            capacity, soc0 = 60.0, 0.0
            target_kwh = rng.uniform(8, 40)
        least = MIN_PORTAL_SESSION if model == MODEL_PORTAL else MIN_SESSION
        target_kwh = max(target_kwh, kw * least / 3600)
        user = "e充网用户" if model == MODEL_PORTAL else f"用户{rng.randint(130, 199)}****{rng.randint(0, 9999):04d}"
        session = ChargeSession(
            seq or self.serial(at), connector, model, accepted, kw, math.ceil(target_kwh * 100), user
        )
        session.capacity, session.soc0 = capacity, soc0
        session.battery_volts = round(rng.uniform(350, 450), 1)
        if connector.meter < 0:
            connector.meter = int(stable_unit(self.config.seed, "meter", connector.id) * 8_000_000)
        session.meter_start = connector.meter
        connector.session = session
        self.sessions[session.seq] = session
        return session

    def _finish(self, session: ChargeSession, at: float, reason: int) -> None:
        session.finish(at, reason)
        if session.bill is not None and self.faults.roll("price_mismatch"):
            session.bill = session.bill.overcharged(OVERCHARGE)
        connector = session.connector
        connector.session = None
        connector.meter = session.meter_start + session.energy
        self.sessions.pop(session.seq, None)
        self._remember(session)
        self.ledger.record(session)
        if session.portal:
            result = {
                "StartChargeSeq": session.seq,
                "StartChargeSeqStat": SEQ_FINISHED,
                "ConnectorID": connector.id,
                "SuccStat": 0,
                "FailReason": 0,
            }
            if not (reason == STOP_PLATFORM and self.faults.roll("lost_stop_result")):
                self._push(Interface.NOTIFICATION_STOP_CHARGE_RESULT, result, RESULT, at, session.seq)
        if reason == STOP_FAULT:
            self._set_status(connector, FAULT, at)
            self._schedule(at + self.rng.uniform(600, 6 * 3600), E_RECOVER, connector)
        else:
            self._set_status(connector, PLUGGED, at)
            self._schedule(at + self.rng.uniform(60, 900), E_UNPLUG, connector)
        bonus, order = session.bonus_order(), session.order()
        if self.faults.roll("bad_money_sum"):
            for payload in (bonus, order):  # a sum the operator's own system got wrong
                payload["TotalMoney"] = payload["TotalMoney"] + Decimal("1.00")
        self.orders.append(bonus)
        unpushed = session.portal and self.faults.roll("unpushed_order")
        if session.portal:
            if not (self.faults.roll("unlisted_order")):
                self.portal_orders.append(session)  # its reconciliation will list it
            due = at + self.rng.uniform(3, 25)  # Beijing: within 30 s of the order
            if not unpushed:
                self._push(Interface.NOTIFICATION_CHARGE_ORDER_INFO, order, ORDER, due, session.seq)
        if unpushed:
            return
        # Beijing's reward scheme: every finished order, whoever started it, within 150 s.
        self._push(
            Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS,
            bonus,
            BONUS,
            at + self.rng.uniform(20, 140),
            session.seq,
        )

    def _remember(self, session: ChargeSession) -> None:
        self.finished[session.seq] = session
        while len(self.finished) > FINISHED_KEPT:
            self.finished.popitem(last=False)

    # -- event handlers ---------------------------------------------------------------------------------------------

    def _on_arrival(self, at: float, _: object) -> None:
        cfg = self.config
        self._schedule(at + self._gap(cfg.walkin_rate * _PROFILE_PEAK), E_ARRIVAL)
        # Thinning: candidates come at the peak rate and are kept in proportion to this hour's rate.
        hour = datetime.fromtimestamp(at, CST).hour
        if self.rng.random() * _PROFILE_PEAK >= ARRIVAL_PROFILE[hour] / _PROFILE_MEAN:
            return
        connector = self.rng.choice(self.directory.connectors)
        if not connector.station.in_service or connector.status != IDLE or connector.session is not None:
            return  # the driver finds the spot taken or the pile down and drives on
        session = self._new_session(connector, self.rng.choice((MODEL_CARD, MODEL_APP)), at, at)
        self._set_status(connector, PLUGGED, at)
        self._schedule(at + self.rng.uniform(20, 90), E_WALKIN_START, session)

    def _on_walkin_start(self, at: float, session: ChargeSession) -> None:
        if session.state != SEQ_STARTING:
            return
        session.state = SEQ_CHARGING
        session.start = at
        self._set_status(session.connector, CHARGING, at)
        if self.rng.random() < 0.3:  # some sessions end early: the driver at the pile, a pulled plug, a pile fault
            end = at + max(MIN_SESSION, (session.natural_end - at) * self.rng.uniform(0.3, 0.9))
            reason = self.rng.choices((STOP_USER, STOP_DISCONNECTED, STOP_FAULT), weights=(85, 10, 5))[0]
            self._schedule(end, E_SESSION_END, (session, reason))
        else:
            self._schedule(session.natural_end, E_SESSION_END, (session, STOP_BMS))

    def _on_session_end(self, at: float, item: tuple[ChargeSession, int]) -> None:
        session, reason = item
        if session.state in (SEQ_CHARGING, SEQ_STOPPING):
            self._finish(session, at, reason)

    def _on_unplug(self, at: float, connector: Connector) -> None:
        if connector.session is None and connector.status == PLUGGED:
            self._set_status(connector, IDLE, at)

    def _on_incident(self, at: float, _: object) -> None:
        self._schedule(at + self._gap(self.config.incident_rate), E_INCIDENT)
        connector = self.rng.choice(self.directory.connectors)
        if not connector.station.in_service or connector.status != IDLE or connector.session is not None:
            return
        if self.rng.random() < 0.6:
            self._set_status(connector, FAULT, at)
            self._schedule(at + self.rng.uniform(600, 6 * 3600), E_RECOVER, connector)
        else:
            self._set_status(connector, OFFLINE, at)
            self._schedule(at + self.rng.uniform(300, 2 * 3600), E_RECOVER, connector)

    def _on_recover(self, at: float, connector: Connector) -> None:
        if connector.status in (FAULT, OFFLINE) and connector.station.in_service and connector.session is None:
            self._set_status(connector, IDLE, at)

    def _on_churn(self, at: float, _: object) -> None:
        self._schedule(at + self.rng.expovariate(self.config.churn_per_day / 86400), E_CHURN)
        directory, moment = self.directory, int(at)
        draw = self.rng.random()
        if draw < 0.2:
            directory.add_station(moment)
            return
        live = [st for st in directory.stations if not st.removed]
        if not live:
            return
        station = self.rng.choice(live)
        if draw < 0.6:
            directory.add_connector(station, moment)
        elif draw < 0.9:
            directory.rename_station(station, moment)
        else:
            connector = self.rng.choice(list(station.connectors))
            directory.derate_connector(connector, connector.power * 0.8, moment)

    def _on_disappear(self, at: float, _: object) -> None:
        live = [st for st in self.directory.stations if st.in_service]
        if live:
            station = seeded(self.config.seed, "disappear", len(self.disappeared)).choice(live)
            self.directory.remove_station(station, int(at))
            self.disappeared.append(station.sid)
        if len(self.disappeared) < self.faults.param("disappearing_station"):
            self._schedule(at + DISAPPEAR_INTERVAL, E_DISAPPEAR)

    def _on_daily(self, at: float, _: object) -> None:
        self._schedule(self._next_check_time(at + 1), E_DAILY)
        self.check_charge_orders(local_day(at) - timedelta(days=1), at)

    def _on_reconcile(self, at: float, _: object) -> None:
        self._schedule(at + self.config.reconcile_every, E_RECONCILE)
        self.check_charge_orders(local_day(at), at, keep=True)

    def _on_portal_start(self, at: float, session: ChargeSession) -> None:
        if session.state != SEQ_STARTING:
            return
        connector = session.connector
        result: dict[str, Any] = {"StartChargeSeq": session.seq, "ConnectorID": connector.id}
        if self.faults.roll("start_failure") or not connector.station.in_service:
            session.state = SEQ_FINISHED
            session.end = at
            self.sessions.pop(session.seq, None)
            connector.session = None
            self._remember(session)
            result.update({"StartChargeSeqStat": SEQ_FINISHED, "StartTime": _dt(at)})
            self._push(Interface.NOTIFICATION_START_CHARGE_RESULT, result, RESULT, at, session.seq)
            self._schedule(at + self.rng.uniform(30, 300), E_UNPLUG, connector)
            return
        session.state = SEQ_CHARGING
        session.start = at
        session.ident = f"{self.rng.randint(0, 999_999):06d}"
        result.update({"StartChargeSeqStat": SEQ_CHARGING, "StartTime": _dt(at), "IdentCode": session.ident})
        if not self.faults.roll("lost_start_result"):
            self._push(Interface.NOTIFICATION_START_CHARGE_RESULT, result, RESULT, at, session.seq)
        self._set_status(connector, CHARGING, at)
        self._schedule(at + CHARGE_STATUS_INTERVAL, E_SNAPSHOT, session)
        self._schedule(session.natural_end, E_SESSION_END, (session, STOP_BMS))

    def _on_snapshot(self, at: float, session: ChargeSession) -> None:
        if session.state not in (SEQ_CHARGING, SEQ_STOPPING):
            return
        payload = session.snapshot(at)
        payload["ChargeModel"] = session.model  # Beijing adds the start method to charging-status pushes
        self._push(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS, payload, SNAPSHOT, at, session.seq)
        self._schedule(at + CHARGE_STATUS_INTERVAL, E_SNAPSHOT, session)

    def _on_stop_done(self, at: float, session: ChargeSession) -> None:
        if session.state == SEQ_STOPPING:
            self._finish(session, at, STOP_PLATFORM)

    _HANDLERS: dict[int, Callable[[Simulator, float, Any], None]] = {
        E_ARRIVAL: _on_arrival,
        E_INCIDENT: _on_incident,
        E_CHURN: _on_churn,
        E_DISAPPEAR: _on_disappear,
        E_DAILY: _on_daily,
        E_WALKIN_START: _on_walkin_start,
        E_SESSION_END: _on_session_end,
        E_UNPLUG: _on_unplug,
        E_RECOVER: _on_recover,
        E_PORTAL_START: _on_portal_start,
        E_SNAPSHOT: _on_snapshot,
        E_STOP_DONE: _on_stop_done,
        E_RECONCILE: _on_reconcile,
    }

    # -- operations behind the interfaces (called by the HTTP handlers) ---------------------------------------------

    def start_charge(self, seq: str, connector_id: str) -> dict[str, Any]:
        """query_start_charge: accept the command (SuccStat 0, Stat 1) and schedule the real start within 50 s."""
        with self.lock:
            at = self.clock.time()
            answer = {"StartChargeSeq": seq, "ConnectorID": connector_id}
            known = self.sessions.get(seq) or self.finished.get(seq)
            if known is not None:
                if known.connector.id != connector_id or not known.portal:
                    return answer | {
                        "StartChargeSeqStat": SEQ_UNKNOWN,
                        "SuccStat": 1,
                        "FailReason": 4,
                    }  # 4: 订单号已被使用
                return answer | {"StartChargeSeqStat": known.state, "SuccStat": 0, "FailReason": 0}  # idempotent
            connector = self.directory.connector(connector_id)
            if connector is None:
                return answer | {
                    "StartChargeSeqStat": SEQ_UNKNOWN,
                    "SuccStat": 1,
                    "FailReason": StartFailReason.NO_SUCH_DEVICE,
                }
            if not connector.station.in_service or connector.status in (OFFLINE, FAULT):
                return answer | {
                    "StartChargeSeqStat": SEQ_UNKNOWN,
                    "SuccStat": 1,
                    "FailReason": StartFailReason.DEVICE_OFFLINE,
                }
            if connector.session is not None or connector.status in (CHARGING, RESERVED):
                return answer | {"StartChargeSeqStat": SEQ_UNKNOWN, "SuccStat": 1, "FailReason": 3}  # 3: 设备使用中
            session = self._new_session(connector, MODEL_PORTAL, at, at, seq)
            self._set_status(connector, PLUGGED, at)  # the driver plugged in to scan the QR code
            self._schedule(at + self.rng.uniform(3, 15), E_PORTAL_START, session)
            return answer | {"StartChargeSeqStat": SEQ_STARTING, "SuccStat": 0, "FailReason": 0}

    def stop_charge(self, seq: str, connector_id: str) -> dict[str, Any]:
        """query_stop_charge: accept (Stat 3) and stop the pile a few seconds later (stop result within 50 s)."""
        with self.lock:
            at = self.clock.time()
            answer = {"StartChargeSeq": seq}
            session = self.sessions.get(seq)
            if session is None or not session.portal:
                done = self.finished.get(seq)
                if done is not None and done.portal:
                    return answer | {
                        "StartChargeSeqStat": SEQ_FINISHED,
                        "SuccStat": 1,
                        "FailReason": StopFailReason.ALREADY_STOPPED,
                    }
                return answer | {"StartChargeSeqStat": SEQ_UNKNOWN, "SuccStat": 1, "FailReason": 4}  # 4: 订单不存在
            if session.connector.id != connector_id:
                return answer | {
                    "StartChargeSeqStat": session.state,
                    "SuccStat": 1,
                    "FailReason": StopFailReason.NO_SUCH_DEVICE,
                }
            if session.state == SEQ_STARTING:
                return answer | {"StartChargeSeqStat": SEQ_STARTING, "SuccStat": 1, "FailReason": 5}  # 5: 启动中
            if session.state == SEQ_CHARGING:
                session.state = SEQ_STOPPING
                self._schedule(at + self.rng.uniform(2, 10), E_STOP_DONE, session)
            return answer | {"StartChargeSeqStat": SEQ_STOPPING, "SuccStat": 0, "FailReason": 0}

    def charge_status(self, seq: str) -> dict[str, Any] | None:
        with self.lock:
            session = self.sessions.get(seq) or self.finished.get(seq)
            return None if session is None else session.snapshot(self.clock.time())

    def check_charge_orders(self, day: date, at: float | None = None, *, keep: bool = False) -> dict[str, Any]:
        """Push the reconciliation of `day`'s portal-started orders (by order end date); returns the payload.
        `keep`: the day is not over (a reconciliation of the day so far), its orders stay for the daily one."""
        with self.lock:
            at = self.clock.time() if at is None else at
            orders = [s for s in self.portal_orders if local_day(s.end) == day]
            if not keep:
                self.portal_orders = [s for s in self.portal_orders if local_day(s.end) > day]
            power = sum((s.bill.power for s in orders if s.bill), Decimal("0.00"))
            money = sum((s.bill.total_money for s in orders if s.bill), Decimal("0.00"))
            seq = self.serial(at)
            payload: dict[str, Any] = {
                "CheckOrderSeq": seq,
                "StartTime": f"{day.isoformat()} 00:00:00",
                "EndTime": f"{day.isoformat()} 23:59:59",
                "OrderCount": len(orders),
                "TotalOrderPower": power.quantize(Decimal("0.0001")),
                "TotalOrderMoney": money,
                "ChargeOrders": [
                    {"StartChargeSeq": s.seq, "TotalPower": s.bill.power, "TotalMoney": s.bill.total_money}
                    for s in orders
                    if s.bill
                ],
            }
            self._push(Interface.CHECK_CHARGE_ORDERS, payload, CHECK, at, seq)
            return payload

    def set_connector_status(self, connector_id: str, status: int) -> Connector:
        """Force a connector's status now (demos, tests); pushes the change like any other."""
        with self.lock:
            connector = self.directory.connector(connector_id)
            if connector is None:
                raise KeyError(connector_id)
            self._set_status(connector, status, self.clock.time())
            return connector

    # -- tokens and replay marks (transport, wall clock) ------------------------------------------------------------

    def issue_token(self) -> tuple[str, int]:
        """A fresh random token; it dies early under early_token_expiry while TokenAvailableTime claims the full TTL."""
        token = secrets.token_hex(24)
        ttl = self.config.token_ttl
        life = min(ttl, self.faults.param("early_token_expiry")) if "early_token_expiry" in self.faults else ttl
        wall = self.wall().timestamp()
        with self._guard:
            if len(self._tokens) > 1000:
                self._tokens = {t: exp for t, exp in self._tokens.items() if exp > wall}
            self._tokens[token] = wall + life
        return token, ttl

    def token_valid(self, token: str) -> bool:
        with self._guard:
            expires = self._tokens.get(token)
        return expires is not None and expires > self.wall().timestamp()

    def first_sight(self, timestamp: str, seq: str, sig: str) -> bool:
        """Mark an envelope as seen; False when exactly this (TimeStamp, Seq, Sig) came before (a replay)."""
        key = (timestamp, seq, sig.upper())
        wall = self.wall().timestamp()
        with self._guard:
            if key in self._seen:
                return False
            if len(self._seen) > 50_000:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > wall}
            # Kept for twice the window: an older TimeStamp is refused by the window check anyway.
            self._seen[key] = wall + 2 * self.config.clock_window
            return True


def _dt(moment: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(moment), CST))
