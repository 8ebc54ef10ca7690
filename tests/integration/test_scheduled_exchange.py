"""The scheduled exchange end to end: beat's entry on the broker, a real Celery worker crawling a simulated operator
platform over HTTP (full, incremental, full again), the platform pushing statuses into the live portal (duplicated,
reordered, late), and fault modes. Afterwards the portal's data equals the platform's, except for the records it
rejected, each with its reasons."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

import pytest
from celery.beat import Scheduler
from django.db.models import Count
from django.utils import timezone

from apps.interconnect.models import Exchange, PullState, RejectedRecord, SyncRun
from apps.interconnect.services import operator_provision
from apps.interconnect.tasks import pull_task, pulls_dispatch_task
from apps.operators.models import Operator
from apps.protocol import CST, MemoryTokenStore, PeerClient, format_datetime, format_timestamp
from apps.protocol.names import Interface
from apps.protocol.timestamps import parse_timestamp
from apps.simulator.directory import CHARGING, FAULT, IDLE, OFFLINE, PLUGGED, RESERVED, status_info
from apps.stations.directory import CONNECTOR_FIELDS, EQUIPMENT_FIELDS, STATION_FIELDS
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory, DirectoryChange, Equipment, Station
from apps.stations.pulls import WATERMARK_MARGIN, station_status_pull, stations_info_pull
from hlht_portal.celery import app
from tests.interconnect.test_worker import wait_for
from tests.simulator.support import INBOUND, INBOUND2, OUTBOUND, OUTBOUND2, SIM2_ID, SIM_ID, keys_file, make_sim
from tests.stations.test_pulls import _same

INFO, STATUS, STATS = Interface.QUERY_STATIONS_INFO, Interface.QUERY_STATION_STATUS, Interface.QUERY_STATION_STATS

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The rule each kind of invalid station (apps/simulator/directory.py INVALID_KINDS) breaks, and how its record shows it.
BROKEN = {
    "bad_enum": ("enum", lambda p: p["StationType"] == 7),
    "long_name": ("max_len", lambda p: len(p["StationName"]) > 50),
    "outside_china": ("china", lambda p: str(p["StationLng"]) == "2.352221"),
    "bad_connector_type": ("enum", lambda p: p["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorType"] == 9),
}


# -- the simulator's truth and the portal's copy -------------------------------------------------------------------


def invalid_stations(sim) -> dict[str, str]:
    """StationID → defect, for every station the simulator sends broken under its invalid_records fault."""
    rate = sim.faults.params.get("invalid_records", 0.0)
    kinds = {st.sid: sim.directory.invalid_kind(st, rate) for st in sim.directory.stations} if rate else {}
    return {sid: kind for sid, kind in kinds.items() if kind}


def assert_portal_equals_simulator_except_rejected(sim) -> set[str]:
    """Every field of every live station, equipment and connector equals the simulator's, except the stations the
    portal rejected; each rejection has reasons and is a station the simulator deliberately sent broken, by the
    rule its defect breaks. Returns the rejected StationIDs."""
    invalid = invalid_stations(sim)
    rejected: dict[str, list[RejectedRecord]] = {}
    for record in RejectedRecord.objects.filter(operator_id=SIM_ID, interface=INFO):
        rejected.setdefault(record.record_key, []).append(record)
    for sid, records in rejected.items():
        assert sid in invalid, f"{sid} was rejected but the simulator sent it valid: {records[0].reasons}"
        rule, shows = BROKEN[invalid[sid]]
        for record in records:
            assert record.reasons and all(isinstance(r, str) and r for r in record.reasons), record
            assert rule in record.rules, (sid, invalid[sid], record.rules, record.reasons)
            assert record.payload["StationID"] == sid and shows(record.payload), record.payload
    live = [st for st in sim.directory.stations if not st.removed]
    assert {st.sid for st in live if st.sid in invalid} <= set(rejected), "an invalid station got in"
    assert not Station.objects.filter(operator_id=SIM_ID, station_id__in=list(rejected)).exists()

    infos = [sim.directory.station_info(st) for st in live if st.sid not in rejected]
    stations = {s.station_id: s for s in Station.objects.filter(operator_id=SIM_ID, removed_at__isnull=True)}
    assert set(stations) == {info["StationID"] for info in infos}
    alive = {"operator_id": SIM_ID, "removed_at__isnull": True, "station__removed_at__isnull": True}
    equipment = {e.equipment_id: e for e in Equipment.objects.filter(**alive)}
    connectors = {c.connector_id: c for c in Connector.objects.filter(**alive)}
    assert set(equipment) == {e["EquipmentID"] for info in infos for e in info["EquipmentInfos"]}
    assert set(connectors) == {
        c["ConnectorID"] for info in infos for e in info["EquipmentInfos"] for c in e["ConnectorInfos"]
    }
    for info in infos:
        station = stations[info["StationID"]]
        _same(station, info, STATION_FIELDS)
        for e in info["EquipmentInfos"]:
            eq = equipment[e["EquipmentID"]]
            assert eq.station_id == station.pk
            _same(eq, e, EQUIPMENT_FIELDS)
            for c in e["ConnectorInfos"]:
                conn = connectors[c["ConnectorID"]]
                assert (conn.station_id, conn.equipment_id) == (station.pk, eq.pk)
                _same(conn, c, CONNECTOR_FIELDS)
    return set(rejected)


def portal_statuses() -> dict[str, tuple[int, int | None, int | None]]:
    rows = ConnectorStatus.objects.filter(connector__operator_id=SIM_ID).values_list(
        "connector__connector_id", "status", "park_status", "lock_status"
    )
    return {cid: (status, park, lock) for cid, status, park, lock in rows}


def simulator_statuses(sim, skip: set[str] = frozenset()) -> dict[str, tuple[int, int, int]]:
    return {
        c.id: (c.status, c.park, c.lock)
        for c in sim.directory.connectors
        if not c.station.removed and c.station.sid not in skip
    }


# -- beat and the worker --------------------------------------------------------------------------------------------


class Beat:
    """What beat does each minute, for real: publish the pulls-dispatch entry to the broker (the worker runs it)."""

    def __init__(self, worker: list) -> None:
        self.scheduler = Scheduler(app=app, lazy=False)
        self.worker = worker

    def tick(self) -> None:
        self.scheduler.apply_entry(self.scheduler.schedule["pulls-dispatch"], producer=self.scheduler.producer)

    def only_due(self, interface: str, *, full: bool = False) -> None:
        """Make exactly one pull due at the next tick, as if its interval had passed (the others just ran)."""
        now, long_ago = timezone.now(), timezone.now() - timedelta(days=3)
        PullState.objects.filter(operator_id=SIM_ID).update(dispatched_at=now, full_dispatched_at=now)
        marks = {"dispatched_at": long_ago, **({"full_dispatched_at": long_ago} if full else {})}
        assert PullState.objects.filter(operator_id=SIM_ID, interface=interface).update(**marks) == 1

    def pulls_done(self) -> list[dict]:
        return [retval for name, _, retval in self.worker if name == pull_task.name and isinstance(retval, dict)]

    def dispatched(self) -> list[int]:
        return [retval for name, _, retval in self.worker if name == pulls_dispatch_task.name]

    def run(self, interface: str) -> SyncRun:
        """Tick, wait for the one pull it dispatches to finish (lease released), return its run."""
        before = len(self.pulls_done())
        self.tick()

        def pulled():
            """the dispatched pull"""
            return len(self.pulls_done()) > before

        wait_for(pulled, timeout=30)
        result = self.pulls_done()[-1]
        assert result["interface"] == interface and "run" in result, result
        return SyncRun.objects.get(pk=result["run"])


# -- 1. crawls ------------------------------------------------------------------------------------------------------


def test_full_incremental_and_full_crawl_through_beat_and_worker(worker, platform):
    # Seed 7: 8 of 30 stations are sent broken (too long a name, a connector type outside E5, a point in Paris),
    # and the station that disappears after 10 simulated minutes is a valid one.
    sim = platform(stations=30, seed=7, faults="invalid_records:0.2,disappearing_station:1")
    invalid = invalid_stations(sim)
    assert len(invalid) == 8 and len(set(invalid.values())) == 3
    beat = Beat(worker)

    # Minute 1: nothing crawled yet, so beat dispatches the full crawl alone.
    full = beat.run(INFO)
    assert (full.full, full.status, full.error, full.last_query_time) == (True, "succeeded", "", "")
    assert (full.created_count, full.rejected_count, full.pages) == (30 - 8, 8, 1)
    assert set(RejectedRecord.objects.filter(run=full).values_list("record_key", flat=True)) == set(invalid)
    assert assert_portal_equals_simulator_except_rejected(sim) == set(invalid)
    assert DirectoryChange.objects.filter(run=full, kind="station", action="created").count() == 22

    # The platform changes: a rename, an added pile, a derated connector, a new station, and a rename of a station
    # it sends broken (listed again, rejected again).
    valid = [st for st in sim.directory.stations if st.sid not in invalid]
    moment = int(sim.clock.time()) + 60
    renamed, extended, derated = valid[1], next(st for st in valid[2:] if len(list(st.connectors)) < 20), valid[-1]
    sim.directory.rename_station(renamed, moment)
    added = sim.directory.add_connector(extended, moment)
    weak = derated.equipments[0].connectors[0]
    sim.directory.derate_connector(weak, weak.power * 0.5, moment)
    new = sim.directory.add_station(moment)
    broken_renamed = sim.directory.by_id[next(iter(invalid))]
    sim.directory.rename_station(broken_renamed, moment)
    assert new.sid not in invalid_stations(sim)

    # The increment's interval has passed: beat dispatches an incremental crawl, which fetches only the changes.
    beat.only_due(INFO)
    incremental = beat.run(INFO)
    assert (incremental.full, incremental.status, incremental.error) == (False, "succeeded", "")
    assert incremental.last_query_time == format_datetime(full.started - WATERMARK_MARGIN)
    counts = (incremental.created_count, incremental.updated_count, incremental.unchanged_count)
    assert counts == (1, 3, 0)
    assert (incremental.rejected_count, incremental.removed_count, incremental.pages) == (1, 0, 1)
    fetched = sum(counts) + incremental.rejected_count
    assert fetched == 5 < full.created_count + full.rejected_count
    assert RejectedRecord.objects.get(run=incremental).record_key == broken_renamed.sid
    changes = {(c.kind, c.object_id, c.action): c for c in DirectoryChange.objects.filter(run=incremental)}
    assert changes[("station", renamed.sid, "updated")].changes["station_name"][1] == renamed.name
    assert ("equipment", added.equipment.id, "created") in changes
    assert ("connector", added.id, "created") in changes
    assert "park_nums" in changes[("station", extended.sid, "updated")].changes
    assert "power" in changes[("connector", weak.id, "updated")].changes
    assert ("station", new.sid, "created") in changes
    assert not any(c.station_id == broken_renamed.sid for c in changes.values())
    assert assert_portal_equals_simulator_except_rejected(sim) == set(invalid)

    # Ten simulated minutes later a station has vanished; an increment cannot see that, the next full crawl does.
    sim.advance(600)
    assert len(sim.disappeared) == 1
    gone = sim.disappeared[0]
    assert gone not in invalid
    beat.only_due(INFO, full=True)
    again = beat.run(INFO)
    assert (again.full, again.status, again.error) == (True, "succeeded", "")
    assert (again.created_count, again.updated_count, again.removed_count) == (0, 0, 1)
    assert (again.unchanged_count, again.rejected_count) == (30 + 1 - 1 - 8, 8)
    assert Station.objects.get(operator_id=SIM_ID, station_id=gone).removed_at is not None  # kept, not deleted
    assert DirectoryChange.objects.filter(run=again, station_id=gone, kind="station", action="removed").count() == 1
    assert DirectoryChange.objects.filter(run=again).count() == 1
    rejected = assert_portal_equals_simulator_except_rejected(sim)

    # And the status sweep, now that the directory is in: every accepted connector's status is the platform's.
    beat.only_due(STATUS)
    sweep = beat.run(STATUS)
    assert (sweep.status, sweep.rejected_count, sweep.created_count) == ("succeeded", 0, 0)
    assert portal_statuses() == simulator_statuses(sim, skip=rejected)
    assert beat.dispatched() == [1, 1, 1, 1]  # each minute dispatched exactly the one pull that was due
    runs = SyncRun.objects.filter(operator_id=SIM_ID)
    assert runs.count() == 4 and not runs.exclude(status="succeeded").exists()
    assert not runs.filter(interface=STATS).exists()


# -- 2. pushes ------------------------------------------------------------------------------------------------------


@pytest.fixture
def pushing_platform(live_server):
    """A simulator that pushes to the live portal over HTTP (the `platform` fixture's are silent)."""
    sims = []

    def build(**overrides):
        operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
        sim = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", **overrides)
        sims.append(sim)
        Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url)
        return sim

    yield build
    for sim in sims:
        sim.stop()


STATUSES = (OFFLINE, IDLE, PLUGGED, CHARGING, RESERVED, FAULT)


class Stamps:
    """A (TimeStamp, Seq) source whose time the test sets: envelopes as a platform's delayed queue would send them."""

    def __init__(self) -> None:
        self.at = timezone.now()
        self._seq = itertools.count(5001)  # clear of the simulator's own Seqs in the same seconds

    def next(self) -> tuple[str, str]:
        return format_timestamp(self.at), f"{next(self._seq):04d}"


def test_duplicated_reordered_and_late_pushes_leave_every_status_as_the_platform_has_it(pushing_platform):
    sim = pushing_platform(stations=20, seed=3, faults="duplicate_push:0.4,reorder_push:0.4")
    operator = Operator.objects.get(pk=SIM_ID)
    assert stations_info_pull(operator=operator, full=True).status == "succeeded"
    assert station_status_pull(operator=operator).status == "succeeded"
    assert portal_statuses() == simulator_statuses(sim)

    # Five rounds of eight status changes each, queued together (so reorder_push has pairs to swap) and drained before
    # the next round. A connector may change in several rounds (its pushes must then apply in order), but never to a
    # status it had before in this test, so no two genuine changes share (connector, second, status).
    rng = random.Random(11)
    had = {c.id: {c.status} for c in sim.directory.connectors}
    changes: list[tuple[str, int]] = []
    for _ in range(5):
        batch = rng.sample([cid for cid, seen in had.items() if len(seen) < len(STATUSES)], 8)
        with sim.pushes_held():
            for cid in batch:
                status = rng.choice([s for s in STATUSES if s not in had[cid]])
                had[cid].add(status)
                sim.set_connector_status(cid, status)
                changes.append((cid, status))
        assert sim.flush(15), "pushes did not drain"
    assert len({cid for cid, _ in changes}) < len(changes)  # some connectors changed more than once

    # Drained: nothing in flight, and no retry waiting (every push, duplicates included, was answered Ret 0).
    assert sim.pusher.pending() == 0
    counts = sim.pusher.counts
    assert counts["delivered"] == len(changes) and counts["retry"] == counts["gave_up"] == 0
    assert counts["duplicate"] > 0
    delivered = [
        (r.payload["ConnectorStatusInfo"]["ConnectorID"], r.payload["ConnectorStatusInfo"]["Status"])
        for r in sim.pusher.history()
        if r.outcome == "delivered"
    ]
    assert sorted(delivered) == sorted(changes) and delivered != changes  # all sent, some out of order

    # The portal has exactly the platform's statuses.
    assert portal_statuses() == simulator_statuses(sim)
    history = ConnectorStatusHistory.objects.filter(connector__operator_id=SIM_ID)
    repeated = history.values("connector", "status_time", "status").annotate(n=Count("id")).filter(n__gt=1)
    assert not repeated.exists(), list(repeated)
    assert history.filter(source="push").count() == len(changes)  # one row per change, none per duplicate

    # The journal: every push answered Ret 0; Status 1 ("ignored") exactly for a repeat of an earlier envelope's
    # status at the same TimeStamp, Status 0 for everything that taught the portal something.
    rows = list(
        Exchange.objects.filter(direction="in", operator_id=SIM_ID, interface="notification_stationStatus").order_by(
            "id"
        )
    )
    assert len(rows) == counts["delivered"] + counts["duplicate"]
    assert {row.ret for row in rows} == {0}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (repr(sorted(row.request["ConnectorStatusInfo"].items())), row.timestamp)
        assert row.response == {"Status": 1 if key in seen else 0}, (row.request, row.timestamp, row.response)
        seen.add(key)
    assert sum(row.response == {"Status": 1} for row in rows) > 0

    # Late pushes (a platform's backed-up queue): for connectors that were pushed, a status they never had in this
    # test, stamped a second before their latest push and arriving now. Each is true history (Status 0, a history
    # row), its repeat is ignored (Status 1), and no current status changes.
    latest: dict[str, tuple[datetime, dict]] = {}
    for row in rows:
        info = row.request["ConnectorStatusInfo"]
        latest[info["ConnectorID"]] = (parse_timestamp(row.timestamp), info)
    late = {cid: next(s for s in STATUSES if s not in had[cid]) for cid in latest if len(had[cid]) < len(STATUSES)}
    late = dict(list(late.items())[:6])
    assert len(late) == 6
    stamps = Stamps()
    with PeerClient(sim.config.portal_url, SIM_ID, INBOUND, MemoryTokenStore(), seq_generator=stamps) as client:
        for cid, status in late.items():
            stamps.at = latest[cid][0] - timedelta(seconds=1)
            info = {**latest[cid][1], "Status": status}
            assert client.call("notification_stationStatus", {"ConnectorStatusInfo": info}) == {"Status": 0}
            assert client.call("notification_stationStatus", {"ConnectorStatusInfo": info}) == {"Status": 1}
    assert portal_statuses() == simulator_statuses(sim)
    assert history.filter(source="push").count() == len(changes) + len(late)
    assert not history.values("connector", "status_time", "status").annotate(n=Count("id")).filter(n__gt=1).exists()


# -- 3. fault modes through the worker ------------------------------------------------------------------------------

# One platform per fault, each its own operator: a bad Sig cannot pass next time; Ret -1 and Ret 500 may.
FAULTY = {
    SIM_ID: ("bad_sig:1", INBOUND, OUTBOUND, 1, False, "UnverifiedAnswer: query_stations_info: bad response Sig"),
    SIM2_ID: ("busy:1", INBOUND2, OUTBOUND2, 3, True, "TransientError: query_stations_info: Ret -1 "),
    "MA0SIM003": ("error500:1", INBOUND, OUTBOUND, 3, True, "TransientError: query_stations_info: Ret 500 "),
}


@pytest.fixture
def faulty_platforms(db):
    sims = []
    for operator_id, (fault, inbound, outbound, *_) in FAULTY.items():
        operator_provision(
            operator_id=operator_id, name=f"故障平台{fault}", keys=keys_file(operator_id, inbound, outbound)
        )
        sim = make_sim(
            start=datetime.now(CST), operator_id=operator_id, inbound=inbound, outbound=outbound, stations=15,
            faults=fault,
        )  # fmt: skip
        sims.append(sim)
        Operator.objects.filter(pk=operator_id).update(endpoint_url=sim.base_url)
    yield sims
    for sim in sims:
        sim.stop()


def test_fault_modes_retry_only_what_may_pass_next_time(worker, faulty_platforms):
    Beat(worker).tick()  # the first minute: every operator's full crawl

    def final(operator_id: str) -> list[dict]:
        return [
            retval
            for name, kwargs, retval in worker
            if name == pull_task.name and kwargs["operator_id"] == operator_id and isinstance(retval, dict)
        ]

    def all_given_up():
        """each crawl's last attempt"""
        return all(final(operator_id) for operator_id in FAULTY)

    wait_for(all_given_up, timeout=40)
    for operator_id, (fault, _, _, runs, retryable, error) in FAULTY.items():
        assert [r["status"] for r in final(operator_id)] == ["failed"], fault
        # Every attempt but the last ended in a retry (task_postrun reports the Retry), the last gave up.
        tries = [retval for name, kwargs, retval in worker if kwargs.get("operator_id") == operator_id]
        assert len(tries) == runs, (fault, tries)
        attempts = list(SyncRun.objects.filter(operator_id=operator_id).order_by("started"))
        assert len(attempts) == runs, fault  # HLHT_PULL_RETRIES is 2 under the worker fixture
        for run in attempts:
            assert (run.interface, run.full, run.status, run.retryable) == (INFO, True, "failed", retryable), fault
            assert run.error.startswith(error), (fault, run.error)
            assert (run.created_count, run.pages) == (0, 0)
        outbound = Exchange.objects.filter(operator_id=operator_id, direction="out", interface=INFO)
        assert outbound.count() == runs, fault
        assert not Station.objects.filter(operator_id=operator_id).exists()
        assert PullState.objects.get(operator_id=operator_id, interface=INFO).holder == ""  # lease released


def test_a_push_right_after_a_status_sweep_is_applied(platform, live_server):
    sim = platform(stations=15, seed=3)
    operator = Operator.objects.get(pk=SIM_ID)
    assert stations_info_pull(operator=operator, full=True).status == "succeeded"
    assert station_status_pull(operator=operator).status == "succeeded"
    connector = next(c for c in sim.directory.connectors if c.status == IDLE)
    observed = ConnectorStatus.objects.get(connector__connector_id=connector.id).status_time
    assert observed.microsecond == 0  # whole seconds, like the TimeStamp of a push
    # The connector starts charging within the same second, after the sweep asked, and the platform pushes that.
    sim.set_connector_status(connector.id, CHARGING)
    stamps = Stamps()
    stamps.at = observed  # the TimeStamp of that second
    with PeerClient(f"{live_server.url}/evcs/v1/", SIM_ID, INBOUND, MemoryTokenStore(), seq_generator=stamps) as client:
        answer = client.call("notification_stationStatus", {"ConnectorStatusInfo": status_info(connector)})
    assert answer == {"Status": 0}
    # The push (sent after the sweep, in the same second) wins: same time, later arrival.
    assert portal_statuses()[connector.id] == simulator_statuses(sim)[connector.id]
