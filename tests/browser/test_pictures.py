"""The station timeline and the operator figures as a person sees them at 1,440 px: one row per connector, each
segment in its status's colour and as wide as its time, nothing past the right edge; titled charts whose series are
the database's figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.roles import CITY, REGULATOR
from apps.indicators.models import Indicator, Level, Period
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.protocol.names import Interface
from apps.stations.choices import STATUS_COLOURS
from apps.stations.choices import ConnectorStatus as S
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory
from apps.supervision import pictures
from tests import factories

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SUBMIT = "form [type=submit]:visible >> nth=0"  # the theme's login button is a <button>
CONNECTORS = 40
CYCLE = [S.IDLE, S.CHARGING, S.OCCUPIED, S.RESERVED, S.FAULT, S.OFFLINE]
HOUR = timedelta(hours=1)


def _rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))


def _overflowing(page, root: str) -> list[str]:
    """Elements under `root` whose box reaches past the viewport's right edge, or that scroll sideways."""
    return page.evaluate(
        """root => {
            const width = document.documentElement.clientWidth, found = [];
            for (const el of document.querySelectorAll(root + ', ' + root + ' *')) {
                const box = el.getBoundingClientRect();
                const name = el.tagName + '.' + (el.getAttribute('class') || '');
                if (box.width && box.right > width + 0.5) found.push(name);
                if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
                    found.push('scrolls: ' + name);
            }
            return found;
        }""",
        root,
    )


@pytest.fixture
def regulator(live_server, roles, django_user_model):
    cache.clear()
    user = django_user_model.objects.create_user(username="reg", password="pw-for-tests-only", is_staff=True)
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=REGULATOR))
    return user


@pytest.fixture
def station():
    """A station of 40 connectors swept every five minutes for the last 25 hours. C01, by hand, on the hour before
    now (T): idle from T − 30 h, charging T − 10 h to T − 8 h 30, offline since; the others cycle through every status
    (four hours each, from 28 to 25 hours ago), so every colour appears."""
    op = factories.operator("123456789", operator_name="京电充电")
    st = factories.station(op, "ST0001", station_name="朝阳公园南门充电站")
    eq = factories.equipment(st, "EQ1")
    conns = [factories.connector(eq, f"1101050000{n:02d}") for n in range(1, CONNECTORS + 1)]
    Connector.objects.update(created=timezone.now() - timedelta(days=10))
    now = timezone.now()
    runs, moment = [], now - 25 * HOUR
    while moment < now:
        runs.append(SyncRun(operator=op, interface=Interface.QUERY_STATION_STATUS.value,
                            status=RunStatus.SUCCEEDED, finished=moment))  # fmt: skip
        moment += timedelta(minutes=5)
    SyncRun.objects.bulk_create(runs)
    top = now.replace(minute=0, second=0, microsecond=0)
    rows = [
        ConnectorStatusHistory(connector=conns[0], status=S.IDLE, status_time=top - 30 * HOUR),
        ConnectorStatusHistory(connector=conns[0], status=S.CHARGING, status_time=top - 10 * HOUR),
        ConnectorStatusHistory(connector=conns[0], status=S.OFFLINE, status_time=top - 8.5 * HOUR),
    ]
    for n, conn in enumerate(conns[1:], start=1):
        for k in range(7):
            rows.append(ConnectorStatusHistory(connector=conn, status=CYCLE[(n + k) % 6],
                                               status_time=top - (28 - 4 * k - n % 4) * HOUR))  # fmt: skip
    ConnectorStatusHistory.objects.bulk_create(rows)
    for conn in conns:
        last = max((r for r in rows if r.connector_id == conn.pk), key=lambda r: r.status_time)
        ConnectorStatus.objects.create(connector=conn, status=last.status, status_time=last.status_time)
    return {"op": op, "st": st, "conns": conns, "top": top}


def _panel_shot(page, shot, name: str, panel: str) -> None:
    """The panel alone, without the theme's sticky save bar drawn over its lower edge."""
    page.add_style_tag(content="#submit-row { position: static !important; }")
    shot(page, name, element=f".extension-panel:has({panel})")


def _log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "reg")
    page.fill("#id_password", "pw-for-tests-only")
    page.click(SUBMIT)
    page.wait_for_selector("#content")


def test_the_station_page_draws_each_connectors_day_in_its_status_colours(page, live_server, regulator, station,
                                                                          shot):  # fmt: skip
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/stations/station/{station['st'].pk}/change/")
    timeline = page.locator("#station-timeline")
    timeline.wait_for()
    rows = timeline.locator(".hlht-timeline-row[data-connector]")
    assert rows.count() == CONNECTORS
    assert rows.first.get_attribute("data-connector") == "110105000001"

    # C01: idle, charging 1 h 30, offline: three rectangles in those colours, as wide as their time.
    first = rows.first.locator("rect")
    assert first.count() == 3
    fills = [first.nth(i).evaluate("el => getComputedStyle(el).fill") for i in range(3)]
    assert fills == [_rgb(STATUS_COLOURS[S.IDLE]), _rgb(STATUS_COLOURS[S.CHARGING]), _rgb(STATUS_COLOURS[S.OFFLINE])]
    bar = rows.first.locator("svg").bounding_box()
    charging = first.nth(1).bounding_box()
    assert charging["width"] == pytest.approx(bar["width"] * 1.5 / 24, abs=1.5)
    # Its left edge at T − 10 h of the 24 hours ending now: the page was drawn a moment after the fixture's `now`.
    elapsed = (timezone.now() - station["top"]).total_seconds() / 3600
    assert charging["x"] - bar["x"] == pytest.approx(bar["width"] * (14 - elapsed) / 24, abs=3)
    tip = first.nth(1).locator("title").text_content()
    begin = timezone.localtime(station["top"] - 10 * HOUR)
    assert f"{begin:%H:%M}–" in tip and "占用（充电中）" in tip and "1小时30分" in tip

    # Every status of the one table appears, in its colour, and nothing else does.
    seen = set(page.eval_on_selector_all("#station-timeline rect", "els => els.map(e => getComputedStyle(e).fill)"))
    assert seen == {_rgb(STATUS_COLOURS[status]) for status in CYCLE}
    legend = timeline.locator(".hlht-legend li")
    assert legend.count() == len(STATUS_COLOURS) + 1  # and the background's 未在列

    assert _overflowing(page, "#station-timeline") == []
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    shot(page, "station-page")
    _panel_shot(page, shot, "station", "#station-timeline")

    # No indicators computed yet for its operator: the day-by-day mix says so rather than drawing zero hours.
    page.goto(f"{live_server.url}/admin/operators/operator/{station['op'].pk}/change/")
    page.wait_for_selector("#operator-figures[data-ready]", timeout=20_000)
    states = page.evaluate("echarts.getInstanceByDom(document.getElementById('operator-chart-states')).getOption()")
    assert states["title"][0]["text"] == "尚无指标数据（接口时间构成每晚计算）"


def _on_day(model, field: str, rows: list, day) -> None:
    """Rows created now, then moved to 10:00 Beijing time `day` days ago (their time is auto_now_add)."""
    created = model.objects.bulk_create(rows)
    moment = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=day)
    model.objects.filter(pk__in=[row.pk for row in created]).update(**{field: moment})


def test_the_operator_page_charts_its_30_days(page, live_server, regulator, station, shot):
    """By hand: orders on today (12.34 kWh) and two days ago (30.00 + 8.16 kWh); then a month of background: d days
    ago d % 4 orders of 25 kWh, 12 pull runs and 2 failed ones every fifth day, 20 + d % 7 status pushes and one
    refused every sixth day."""
    op, conn = station["op"], station["conns"][0]
    today = timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0)
    hand = [(0, "12.34", "20.00"), (2, "30.00", "45.50"), (2, "8.16", "12.25")]
    background = [(d, "25.00", "37.50") for d in range(3, 30) for _ in range(d % 4)]
    for days, kwh, money in hand + background:
        begin = today - timedelta(days=days)
        factories.order(conn, start_time=begin, end_time=begin + timedelta(minutes=2),
                        total_power=Decimal(kwh), total_money=Decimal(money),
                        order_received_at=begin + timedelta(minutes=3))  # fmt: skip
    push, sweep = Interface.NOTIFICATION_STATION_STATUS.value, Interface.QUERY_STATION_STATUS.value
    for d in range(30):
        if d:
            runs = [SyncRun(operator=op, interface=sweep, status=RunStatus.SUCCEEDED) for _ in range(12)]
            runs += [SyncRun(operator=op, interface=sweep, status=RunStatus.FAILED) for _ in range(2 * (d % 5 == 0))]
            _on_day(SyncRun, "started", runs, d)
        pushes = [Exchange(operator=op, interface=push, direction=Direction.IN, ret=0) for _ in range(20 + d % 7)]
        pushes += [Exchange(operator=op, interface=push, direction=Direction.IN, ret=4) for _ in range(d % 6 == 0)]
        _on_day(Exchange, "created", pushes, d)
    # The indicators' day rows (AVAIL's details are the operator's connector-seconds per state): 960 connector-hours
    # a day, free 500 + d of them, charging 200, occupied without charging 80, out 100, unknown the rest.
    hour = 3600.0
    Indicator.objects.bulk_create(
        Indicator(code="AVAIL", level=Level.OPERATOR, target=op.pk, period=Period.DAY, operator=op,
                  start=timezone.localdate() - timedelta(days=d), numerator=0, denominator=1,
                  details={"t_free": (500 + d) * hour, "t_occupied": 280 * hour, "t_charging": 200 * hour,
                           "t_out": 100 * hour, "t_unknown": (80 - d) * hour, "t_period": 960 * hour})
        for d in range(1, 30)
    )  # fmt: skip
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/operators/operator/{station['op'].pk}/change/")
    page.wait_for_selector("#operator-figures[data-ready]", timeout=20_000)
    titles = page.locator("#operator-figures .hlht-figure h3").all_inner_texts()
    assert titles == ["接口当前状态", "近30天每日接口时间构成（接口·小时）", "近30天每日订单与电量",
                      "近30天每日拉取（平台查询）", "近30天每日状态推送"]  # fmt: skip

    def option(chart: str):
        return page.evaluate(f"echarts.getInstanceByDom(document.getElementById('{chart}')).getOption()")

    status = {item["name"]: item for item in option("operator-chart-status")["series"][0]["data"]}
    mix = {share.label: share.n for share in pictures.operator_status_now(CITY, "123456789")}
    assert {name: item["value"] for name, item in status.items()} == mix
    assert sum(mix.values()) == CONNECTORS
    for value, label in S.choices:
        assert status[label]["itemStyle"]["color"] == STATUS_COLOURS[value]

    assert not option("operator-chart-states").get("title")  # computed days: no "not yet" title
    states = {series["name"]: series["data"] for series in option("operator-chart-states")["series"]}
    assert states["空闲"] == [500.0 + d for d in range(29, 0, -1)] + [None]  # today's row is computed tonight
    assert states["占用（未充电或预约）"][-2] == 80.0 and states["未知（无数据）"][-2] == 79.0
    assert [series["color"] for series in option("operator-chart-states")["series"]] == [
        STATUS_COLOURS[S.IDLE], STATUS_COLOURS[S.CHARGING], STATUS_COLOURS[S.OCCUPIED], STATUS_COLOURS[S.OFFLINE],
        STATUS_COLOURS[None]]  # fmt: skip

    orders = option("operator-chart-orders")
    assert len(orders["xAxis"][0]["data"]) == 30
    by_name = {series["name"]: series["data"] for series in orders["series"]}
    assert by_name["订单"][-1] == 1 and by_name["订单"][-3] == 2 and by_name["订单"][-4] == 3
    assert sum(by_name["订单"]) == 3 + len(background)
    assert by_name["电量"][-1] == 12.3 and by_name["电量"][-3] == 38.2  # 30.00 + 8.16, one decimal
    assert by_name["电量"][-4] == 75.0  # three orders of 25 kWh three days ago
    crawls = {series["name"]: series["data"] for series in option("operator-chart-crawls")["series"]}
    assert crawls["成功"][-1] == 300  # the fixture's sweeps, all recorded (started) today
    assert crawls["成功"][:-1] == [12] * 29
    assert crawls["失败"] == [2 if d and d % 5 == 0 else 0 for d in range(29, -1, -1)]
    pushes = {series["name"]: series["data"] for series in option("operator-chart-pushes")["series"]}
    assert pushes["已接收"] == [20 + d % 7 for d in range(29, -1, -1)]
    assert pushes["拒收"] == [int(d % 6 == 0) for d in range(29, -1, -1)]
    money = Decimal("77.75") + Decimal("37.50") * len(background)
    assert f"{money:,.2f} 元" in page.inner_text("#operator-figures .hlht-totals")
    page.wait_for_timeout(800)  # the charts' entry animation, and their resize to their boxes
    assert _overflowing(page, "#operator-figures") == []
    shot(page, "operator-page")
    _panel_shot(page, shot, "operator", "#operator-figures")
