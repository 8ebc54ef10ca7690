"""A regulator and an operator manager in a real browser: log in, read the dashboard (its figures are the
database's), click through, filter, export; and an operator manager cannot reach another operator's data."""

import re

import pytest
from django.core.cache import cache

from apps.demo.data import demo_load
from apps.operators.models import Operator
from apps.stations.models import Station
from apps.stations.selectors import listed_connectors

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
# The page's own submit button (the theme draws <button>s, the portal's pages <input>s; the header's hidden
# log-out form is not visible).
SUBMIT = "form [type=submit]:visible >> nth=0"


@pytest.fixture
def logins(live_server):
    cache.clear()
    return {login.username: login for login in demo_load(seed=1)}


def _log_in(page, live_server, login):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", login.username)
    page.fill("#id_password", login.password)
    page.click(SUBMIT)
    page.wait_for_selector("#content")


def test_regulator_reads_the_dashboard_clicks_filters_and_exports(page, live_server, logins, shot, tmp_path):
    _log_in(page, live_server, logins["regulator"])
    page.wait_for_selector("#dashboard")
    total = int(re.search(r"共 (\d+) 个", page.inner_text("#status-now h2")).group(1))
    assert total == listed_connectors().count() > 0
    page.wait_for_selector("#map[data-ready]", timeout=20_000)  # the map loaded its GeoJSON and its points
    assert int(page.get_attribute("#map", "data-ready")) == Station.objects.filter(
        removed_at__isnull=True, connectors__removed_at__isnull=True).distinct().count()  # fmt: skip
    assert page.locator("#chart-districts canvas").count() == 1
    page.wait_for_timeout(800)  # let the charts finish their entry animation before the picture
    shot(page, "dashboard")
    shot(page, "map", element="#map")

    # A figure leads to its list.
    page.click("#pending a:has-text('待处理对账争议')")
    page.wait_for_selector("#changelist")
    assert "state__exact=open" in page.url

    # Filter the stations by district (names, not codes), then export what is listed.
    page.goto(f"{live_server.url}/admin/stations/station/")
    page.click("a:has-text('筛选')")  # the theme keeps the filters in a sheet
    page.click("#changelist-filter a:has-text('朝阳区')")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr").count()
    assert rows == Station.objects.filter(area_code="110105").count() > 0
    shot(page, "stations")
    page.click("#result_list tbody tr th a")
    page.wait_for_selector("#station_form")
    shot(page, "station")
    page.goto(f"{live_server.url}/admin/stations/station/export/")
    page.select_option("select[name=format]", label="csv")
    with page.expect_download() as download:
        page.click(SUBMIT)
    path = tmp_path / "stations.csv"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert all(s.station_id in text for s in Station.objects.all()[:5])


def test_operator_manager_cannot_reach_another_operators_data(page, live_server, logins, shot):
    _log_in(page, live_server, logins["operator1"])
    page.wait_for_selector("#operator-home")
    shot(page, "operator-home")
    own = Operator.objects.get(accounts__user__username="operator1")
    other = Station.objects.exclude(operator=own).first()
    page.goto(f"{live_server.url}/admin/stations/station/{other.pk}/change/")
    assert other.station_name not in page.content()
    page.goto(f"{live_server.url}/admin/interconnect/exchange/")
    assert page.locator("#changelist").count() == 0  # the journal is not theirs (403)
    page.goto(f"{live_server.url}/admin/stations/station/")
    listed = page.inner_text("#result_list")
    assert other.station_id not in listed
