"""Import/export: Chinese headers, natural keys (re-import updates), per-row error reports, formula escaping, scope."""

from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.orders.models import ChargeOrder
from apps.orders.resources import ChargeOrderResource
from apps.pricing.models import PolicyPeriod
from apps.pricing.resources import PolicyPeriodResource
from apps.stations.models import Connector, Equipment, Station
from apps.stations.resources import ConnectorResource, EquipmentResource, StationResource
from tests import factories


def _roundtrip(resource_cls, model):
    exported = resource_cls().export()
    before = model.objects.count()
    result = resource_cls().import_data(tablib.Dataset().load(exported.csv, format="csv"), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), result.invalid_rows
    assert model.objects.count() == before  # natural keys: nothing duplicated
    return exported, result


@pytest.mark.parametrize(
    ("resource_cls", "model"),
    [
        (StationResource, Station),
        (EquipmentResource, Equipment),
        (ConnectorResource, Connector),
        (ChargeOrderResource, ChargeOrder),
        (PolicyPeriodResource, PolicyPeriod),
    ],
)
def test_export_reimport_updates_in_place(directory, resource_cls, model):
    conn = directory["connectors"]["123456789"]
    factories.order(conn)
    from django.utils import timezone

    factories.PolicyPeriodFactory(
        policy__connector=conn, policy__effective_from=timezone.now().replace(microsecond=0),
        elec_price=Decimal("0.3200"),
    )  # fmt: skip
    exported, result = _roundtrip(resource_cls, model)
    assert model.objects.count() > 0
    assert {row.import_type for row in result.rows} <= {"skip", "update"}


def test_reimporting_an_order_export_keeps_the_real_customer_name(directory):
    """The name column is exported masked and is export-only: the masked form never overwrites the stored name."""
    order = factories.order(directory["connectors"]["123456789"], user_name="张三丰")
    exported = ChargeOrderResource().export()
    column = str(ChargeOrder._meta.get_field("user_name").verbose_name)
    assert [row[column] for row in exported.dict] == ["张**"]
    data = tablib.Dataset(headers=exported.headers)
    for row in exported.dict:  # the file as a person sends it back, one real change with the masked name in it
        row["充电结束原因"] = "1"
        data.append([row[h] for h in exported.headers])
    result = ChargeOrderResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), result.invalid_rows
    assert [r.import_type for r in result.rows] == ["update"]
    order.refresh_from_db()
    assert (order.stop_reason, order.user_name) == (1, "张三丰")


def test_headers_are_chinese(directory):
    headers = StationResource().export().headers
    assert headers[:3] == ["运营商ID", "充电站ID", "设备所属方ID"]
    assert "经度（GCJ-02）" in headers and "营业时间" in headers


def test_reimport_with_a_change_updates_that_row(directory):
    exported = StationResource().export()
    data = tablib.Dataset(headers=exported.headers)
    for row in exported.dict:
        if row["充电站ID"] == "ST123456789":
            row["充电站名称"] = "改名后的充电站"
        data.append([row[h] for h in exported.headers])
    result = StationResource().import_data(data, dry_run=False)
    assert [r.import_type for r in result.rows] == ["update", "skip"]
    assert Station.objects.get(station_id="ST123456789").station_name == "改名后的充电站"
    assert Station.objects.count() == 2


def _station_rows(*rows):
    data = StationResource().export(Station.objects.none())
    for row in rows:
        data.append([row.get(h, "") for h in data.headers])
    return data


GOOD = {
    "运营商ID": "123456789",
    "充电站ID": "NEW1",
    "设备所属方ID": "123456789",
    "充电站名称": "新站",
    "国家代码": "CN",
    "省市辖区编码": "110108",
    "详细地址": "北京市海淀区",
    "服务电话": "4000000000",
    "站点类型": "1",
    "站点状态": "50",
    "车位数量": "3",
    "经度（GCJ-02）": "116.3",
    "纬度（GCJ-02）": "39.9",
    "建设场所": "4",
    "站点照片": "[]",
    "是否支持预约": "0",
}


def test_bad_rows_are_each_reported_and_nothing_is_imported(directory):
    bad_enum = {**GOOD, "充电站ID": "NEW2", "站点类型": "7"}
    bad_area = {**GOOD, "充电站ID": "NEW3", "省市辖区编码": "11A"}
    unknown_operator = {**GOOD, "充电站ID": "NEW4", "运营商ID": "999999999"}
    result = StationResource().import_data(
        _station_rows(GOOD, bad_enum, bad_area, unknown_operator), dry_run=False, rollback_on_validation_errors=True
    )
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3, 4}
    assert "站点类型" in str(invalid[2]) or "station_type" in str(invalid[2])
    assert "6位" in str(invalid[3])
    assert "999999999" in str(invalid[4]) or "运营商" in str(invalid[4])
    assert not Station.objects.filter(station_id__startswith="NEW").exists()  # the good row waits for the fix


def test_good_file_imports(directory):
    result = StationResource().import_data(_station_rows(GOOD), dry_run=False, rollback_on_validation_errors=True)
    assert not result.has_validation_errors() and not result.has_errors()
    assert Station.objects.get(station_id="NEW1").area_code == "110108"


def test_connector_import_resolves_station_from_equipment(directory):
    data = ConnectorResource().export(Connector.objects.none())
    row = {"运营商ID": "123456789", "设备编码": "EQ123456789", "充电设备接口编码": "NEWCONN", "接口类型": "4"}
    row.update(
        {
            "额定电压上限（V）": "750",
            "额定电压下限（V）": "200",
            "额定电流（A）": "250",
            "额定功率（kW）": "60.0",
            "国家标准": "2",
        }
    )
    data.append([row.get(h, "") for h in data.headers])
    result = ConnectorResource().import_data(data, dry_run=False, rollback_on_validation_errors=True)
    assert not result.has_validation_errors() and not result.has_errors(), [r.error_dict for r in result.invalid_rows]
    conn = Connector.objects.get(connector_id="NEWCONN")
    assert conn.station.station_id == "ST123456789"

    # An equipment of another operator is not found under this operator.
    data2 = ConnectorResource().export(Connector.objects.none())
    data2.append([{**row, "设备编码": "EQMA59CU773", "充电设备接口编码": "X"}.get(h, "") for h in data2.headers])
    bad = ConnectorResource().import_data(data2, dry_run=False, rollback_on_validation_errors=True)
    assert bad.has_validation_errors() or bad.has_errors()
    assert not Connector.objects.filter(connector_id="X").exists()


def test_export_escapes_formulae(directory, settings, client, regulator):
    Station.objects.filter(station_id="ST123456789").update(station_name='=HYPERLINK("http://x")')
    client.force_login(regulator)
    url = reverse("admin:stations_station_export")
    response = client.post(
        url,
        {
            "format": "0",
            "resource": "0",
            **{f"stationresource_{f}": "on" for f in ("operator", "station_id", "station_name")},
        },
    )
    assert response.status_code == 200, response.content[:500]
    body = response.content.decode("utf-8-sig")
    cells = [cell.strip('"') for line in body.splitlines() for cell in line.split(",")]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_admin_import_flow_reports_bad_rows(directory, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("importer", password="x" * 12, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["import_station", "view_station"]))
    client.force_login(user)
    csv = _station_rows(GOOD, {**GOOD, "充电站ID": "NEW9", "站点状态": "99"}).csv.encode()
    response = client.post(
        reverse("admin:stations_station_import"),
        {
            "format": "0",
            "resource": "0",
            "import_file": SimpleUploadedFile("stations.csv", csv, content_type="text/csv"),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "NEW9" in html  # the bad row is shown
    assert "confirm" not in html.lower() or "process_import" not in html  # no way to confirm a file with errors
    assert not Station.objects.filter(station_id__startswith="NEW").exists()


def test_import_and_export_need_their_permissions(directory, client, regulator, manager_a):
    client.force_login(regulator)
    assert client.get(reverse("admin:stations_station_import")).status_code == 403  # regulators do not import
    assert client.get(reverse("admin:stations_station_export")).status_code == 200
    client.force_login(manager_a)
    assert client.get(reverse("admin:stations_station_import")).status_code == 403


def test_export_respects_scope(directory, client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:stations_station_export"),
        {"format": "0", "resource": "0", "stationresource_operator": "on", "stationresource_station_id": "on"},
    )
    body = response.content.decode("utf-8-sig")
    assert "ST123456789" in body and "STMA59CU773" not in body


def test_scoped_import_refuses_other_operators_rows(directory, manager_a):
    result = StationResource().import_data(
        _station_rows({**GOOD, "运营商ID": "MA59CU773", "设备所属方ID": "MA59CU773"}),
        dry_run=False,
        rollback_on_validation_errors=True,
        user=manager_a,
    )
    assert result.has_errors() or result.has_validation_errors()
    assert not Station.objects.filter(station_id="NEW1").exists()
