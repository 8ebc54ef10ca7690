"""Each filter narrows the rows to the right ones, and a value that cannot be right is a 400 naming the filter."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.operators.models import Operator
from apps.stations.models import Connector, Equipment, Station
from tests import factories
from tests.api.conftest import ENDPOINTS, A, B

pytestmark = pytest.mark.django_db

STA, STB, DEPOT = f"ST{A}", f"ST{B}", "HD-DEPOT"
CNA, CNB, CNAC = f"CN{A}", f"CN{B}", "CN-AC"
INFO, STATUS = "query_stations_info", "query_station_status"

CASES = [
    ("stations", {"district": "110108"}, [DEPOT]),
    ("stations", {"area_code": "110105"}, [STA, STB]),
    ("stations", {"operator": B}, [STB]),
    ("stations", {"district": "110105", "operator": A}, [STA]),
    ("stations", {"station_status": 6}, [DEPOT]),
    ("stations", {"station_type": 100}, [DEPOT]),
    ("stations", {"construction": 4}, [STA, STB]),
    ("stations", {"removed": "true"}, [DEPOT]),
    ("stations", {"removed": "false"}, [STA, STB]),
    ("stations", {"district": "110119"}, []),
    ("equipment", {"operator": A}, [f"EQ{A}", "EQ-AC"]),
    ("equipment", {"station": DEPOT}, ["EQ-AC"]),
    ("equipment", {"equipment_type": 2}, ["EQ-AC"]),
    ("equipment", {"power_min": 100}, [f"EQ{A}", f"EQ{B}"]),
    ("equipment", {"power_max": "7"}, ["EQ-AC"]),
    ("equipment", {"power_min": "7.0", "power_max": "7.0"}, ["EQ-AC"]),
    ("connectors", {"operator": B}, [CNB]),
    ("connectors", {"station": DEPOT}, [CNAC]),
    ("connectors", {"equipment": "EQ-AC"}, [CNAC]),
    ("connectors", {"status": 1}, [CNA]),
    ("connectors", {"status": 3}, [CNAC]),
    ("connectors", {"status": 255}, []),
    ("connectors", {"connector_type": 2}, [CNAC]),
    ("connectors", {"national_standard": 1}, [CNAC]),
    ("connectors", {"power_min": 50}, [CNA, CNB]),
    ("connectors", {"district": "110108"}, [CNAC]),
    ("status-history", {"connector": CNA}, [CNA, CNA]),
    ("status-history", {"operator": B}, [CNB]),
    ("status-history", {"station": STA}, [CNA, CNA]),
    ("status-history", {"status": 255}, [CNB]),
    ("status-history", {"source": "pull"}, []),
    ("status-history", {"since": "2024-01-02T00:00:00+08:00"}, [CNA, CNB]),
    ("status-history", {"until": "2024-01-01T23:59:59+08:00"}, [CNA]),
    ("status-history", {"since": "2024-01-02T00:00:00+08:00", "until": "2024-01-02T23:59:59+08:00"}, [CNA]),
    ("station-stats", {"station": STA}, [STA, STA]),
    ("station-stats", {"operator": B}, [STB]),
    ("station-stats", {"since": "2024-01-10"}, [STA, STB]),
    ("station-stats", {"until": "2024-01-10"}, [STA]),
    ("station-stats", {"since": "2024-01-10", "until": "2024-01-31"}, [STB]),
    ("sync-runs", {"operator": A}, [INFO, STATUS]),
    ("sync-runs", {"interface": STATUS}, [STATUS]),
    ("sync-runs", {"status": "failed"}, [STATUS]),
    ("sync-runs", {"full": "true"}, [INFO]),
    ("sync-runs", {"started_since": "2024-06-01T00:00:00+08:00"}, [INFO, STATUS]),
    ("directory-changes", {"operator": B}, [CNB]),
    ("directory-changes", {"kind": "station"}, [DEPOT]),
    ("directory-changes", {"action": "removed"}, [DEPOT]),
    ("directory-changes", {"station": STB}, [CNB]),
    ("rejected-records", {"operator": A}, ["BAD-A"]),
    ("rejected-records", {"interface": INFO}, ["BAD-A", "BAD-B"]),
    ("rejected-records", {"since": "2099-01-01T00:00:00+08:00"}, []),
    ("operators", {"kind": "operator"}, [A, B]),
    ("operators", {"status": "testing"}, []),
    ("operators", {"stale": "true"}, [A, B]),  # in service, and no connector status has arrived from either
    ("operators", {"stale": "false"}, []),
]


@pytest.mark.parametrize(("endpoint", "params", "expected"), CASES)
def test_filter_narrows(as_regulator, city, endpoint, params, expected):
    response = as_regulator.get(f"/api/{endpoint}/", params)
    assert response.status_code == 200, response.json()
    assert sorted(row[ENDPOINTS[endpoint]] for row in response.json()["results"]) == sorted(expected)


def test_filter_by_run(as_regulator, city):
    run = as_regulator.get("/api/sync-runs/", {"operator": A, "full": "true"}).json()["results"][0]["id"]
    for endpoint, expected in [("directory-changes", DEPOT), ("rejected-records", "BAD-A")]:
        rows = as_regulator.get(f"/api/{endpoint}/", {"run": run}).json()["results"]
        assert [row[ENDPOINTS[endpoint]] for row in rows] == [expected]


@pytest.mark.parametrize(
    ("endpoint", "model", "touched"),
    [
        ("stations", Station, {"station_id": DEPOT}),
        ("equipment", Equipment, {"equipment_id": "EQ-AC"}),
        ("connectors", Connector, {"connector_id": CNAC}),
        ("operators", Operator, {"operator_id": B}),
    ],
)
def test_updated_since(as_regulator, city, endpoint, model, touched):
    long_ago = timezone.make_aware(datetime(2024, 1, 1))
    model.objects.update(updated=long_ago)
    model.objects.filter(**touched).update(updated=timezone.now())
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    rows = as_regulator.get(f"/api/{endpoint}/", {"updated_since": since}).json()["results"]
    assert [row[ENDPOINTS[endpoint]] for row in rows] == list(touched.values())


BAD = [
    ("stations", "district", "1101"),
    ("stations", "area_code", "abc"),
    ("stations", "station_status", "7"),
    ("stations", "station_status", "normal"),
    ("stations", "station_type", "2"),
    ("stations", "construction", "99"),
    ("stations", "updated_since", "yesterday"),
    ("stations", "removed", "maybe"),
    ("stations", "operator", "ZZZZZZZZZ"),
    ("equipment", "equipment_type", "9"),
    ("equipment", "power_min", "abc"),
    ("equipment", "power_max", "-1"),
    ("equipment", "station", "S" * 21),
    ("connectors", "status", "9"),
    ("connectors", "status", "idle"),
    ("connectors", "connector_type", "0"),
    ("connectors", "national_standard", "3"),
    ("connectors", "district", "chaoyang"),
    ("connectors", "power_min", "1e"),
    ("connectors", "updated_since", "2024-13-01T00:00:00"),
    ("status-history", "since", "2024-01-01T25:00:00"),
    ("status-history", "until", "later"),
    ("status-history", "status", "7"),
    ("status-history", "connector", "C" * 27),
    ("status-history", "source", "api"),
    ("station-stats", "since", "2024-02-30"),
    ("station-stats", "until", "someday"),
    ("station-stats", "operator", "nobody"),
    ("sync-runs", "status", "ok"),
    ("sync-runs", "full", "yes"),
    ("sync-runs", "started_since", "soon"),
    ("directory-changes", "kind", "depot"),
    ("directory-changes", "action", "deleted"),
    ("directory-changes", "run", "abc"),
    ("directory-changes", "run", "0"),
    ("rejected-records", "run", "-1"),
    ("rejected-records", "since", "x"),
    ("operators", "kind", "cpo"),
    ("operators", "status", "live"),
]


@pytest.mark.parametrize(("endpoint", "name", "value"), BAD)
def test_bad_value_is_400_naming_the_filter(as_regulator, city, endpoint, name, value):
    response = as_regulator.get(f"/api/{endpoint}/", {name: value})
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_operator_health_is_in_the_api(as_regulator, city):
    factories.ExchangeFactory(operator=city["a"])  # an accepted status push, just now
    rows = {row["OperatorID"]: row for row in as_regulator.get("/api/operators/").json()["results"]}
    assert rows[A]["Health"]["IsStale"] is False and rows[A]["Health"]["LastPush"]
    assert rows[B]["Health"]["IsStale"] is True and rows[B]["Health"]["LastPush"] is None
    assert rows[B]["Health"]["StaleConnectorCount"] == Connector.objects.filter(operator_id=B).count()
    fresh = as_regulator.get("/api/operators/", {"stale": "false"}).json()["results"]
    assert [row["OperatorID"] for row in fresh] == [A]


def test_order_filters_narrow_to_the_right_orders(as_regulator, city):
    from apps.orders.models import ChargeOrder

    conn_a = Connector.objects.get(connector_id=CNA)
    # A bonus order for a connector the portal does not know: only the station it names places it.
    unknown = factories.order(conn_a, connector=None, connector_code="CN-GONE", station_code=STA, confirm_result=0)
    held_a = ChargeOrder.objects.get(operator_id=A, connector=conn_a)

    def seqs(**params):
        response = as_regulator.get("/api/orders/", params)
        assert response.status_code == 200, response.json()
        return sorted(row["StartChargeSeq"] for row in response.json()["results"])

    assert seqs(station=STA) == sorted([held_a.start_charge_seq, unknown.start_charge_seq])
    assert seqs(station=STB) == [ChargeOrder.objects.get(operator_id=B).start_charge_seq]
    assert seqs(station="NOWHERE") == []
    assert seqs(connector="CN-GONE") == [unknown.start_charge_seq]
    assert seqs(operator=A, disputed="true") == [held_a.start_charge_seq]
    assert seqs(operator=A, disputed="false") == [unknown.start_charge_seq]
    assert seqs(day="2024-01-01", operator=B) == [ChargeOrder.objects.get(operator_id=B).start_charge_seq]
    assert seqs(day="2024-01-02") == []


def test_dispute_filters_narrow_by_state_and_operator(as_regulator, city):
    rows = as_regulator.get("/api/disputes/", {"operator": A, "state": "open"}).json()["results"]
    assert [row["OperatorID"] for row in rows] == [A]
    assert as_regulator.get("/api/disputes/", {"state": "resolved"}).json()["results"] == []
