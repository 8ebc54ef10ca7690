"""The indicator pages in a real browser at 1,440 px: the explorer's map and trend drawn with the database's figures,
the scorecard's grade distribution, a station's sheet, an operator manager's own figures; nothing overflows; the
README's pictures of the explorer and the scorecard."""

from __future__ import annotations

import json
import random
from datetime import datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.demo.data import demo_load
from apps.indicators.annual import annual_compute
from apps.indicators.models import Indicator, Scorecard
from apps.indicators.scorecard import scorecards_compute
from apps.indicators.services import indicators_compute_day
from apps.operators.models import Operator
from apps.stations.choices import StatusSource
from apps.stations.models import Connector, ConnectorStatusHistory
from tests.indicators.conftest import sweeps

from .test_regulator import _log_in

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DAYS = 5
STATUSES = [1, 1, 1, 1, 2, 3, 3, 3, 0, 255]


@pytest.fixture
def computed(live_server):
    """The demo city with five days of pushed (and a few only pulled) status changes and answered sweeps, its
    indicators computed, the quarter's scorecard and the year's assessment."""
    cache.clear()
    logins = {login.username: login for login in demo_load(seed=1)}
    rng = random.Random(24)
    today = timezone.localdate()
    first = timezone.make_aware(datetime.combine(today - timedelta(days=DAYS), time.min))
    for operator in Operator.objects.filter(stations__isnull=False).distinct():
        sweeps(operator, first - timedelta(hours=1), timezone.now())
    history = []
    for connector in Connector.objects.filter(removed_at__isnull=True):
        Connector.objects.filter(pk=connector.pk).update(created=first - timedelta(days=30))
        moment = first
        while moment < timezone.now() - timedelta(hours=1):
            moment += timedelta(minutes=rng.randint(30, 180))
            pushed = rng.random() < 0.85
            history.append(ConnectorStatusHistory(
                connector=connector, status=rng.choice(STATUSES), status_time=moment,
                source=StatusSource.PUSH if pushed else StatusSource.PULL,
            ))  # fmt: skip
    created = ConnectorStatusHistory.objects.bulk_create(history)
    for row in created:  # pushes arrive seconds after the change (a few too late), pulls at the next sweep
        ConnectorStatusHistory.objects.filter(pk=row.pk).update(
            created=row.status_time + timedelta(seconds=rng.choice([5, 10, 30, 90]))
        )
    for back in range(DAYS, 0, -1):
        indicators_compute_day(today - timedelta(days=back))
    scorecards_compute(today)
    annual_compute(today.year)
    return logins


WIDE = """Array.from(document.querySelectorAll("*"))
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth).slice(0, 8)
  .map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))"""


def _overflow(page) -> int:
    """How far the page reaches past the viewport (0: it fits); the elements that reach past it in the message."""
    wide = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert wide <= 0, page.evaluate(WIDE)
    return wide


def test_the_explorer_and_the_scorecard_at_1440(page, live_server, computed, shot):
    _log_in(page, live_server, computed["regulator"])
    page.goto(f"{live_server.url}/admin/")
    page.click("a:has-text('指标浏览')")  # reachable from the sections
    page.wait_for_selector("#explorer-form")
    page.select_option("select[name=code]", "AVAIL")
    page.select_option("select[name=level]", "station")
    page.select_option("select[name=period]", "day")
    page.click("#explorer-form input[type=submit]")
    page.wait_for_selector("#ind-map[data-ready]", timeout=20_000)
    start = page.input_value("select[name=start]")
    districts = Indicator.objects.filter(code="AVAIL", level="district", period="day", start=start)
    drawn = dict(json.loads(page.get_attribute("#ind-map", "data-ready")))
    assert drawn and len(drawn) == districts.count()
    city = Indicator.objects.filter(code="AVAIL", level="city", period="day").order_by("start")
    points = json.loads(page.get_attribute("#ind-trend", "data-points"))
    assert points[0] == [row.value for row in city if str(row.start) <= start][-12:]
    assert page.locator("#ind-map canvas").count() == 1 and page.locator("#ind-trend canvas").count() == 1
    assert page.locator("#ranking tbody tr").count() == min(
        50, Indicator.objects.filter(code="AVAIL", level="station", period="day", start=start).count()
    )
    assert _overflow(page) <= 0
    page.wait_for_timeout(800)  # the charts' entry animation
    shot(page, "indicators-explorer")
    page.click("#ranking tbody tr:first-child a:has-text('追溯')")
    page.wait_for_selector(".trace-timeline")
    assert _overflow(page) <= 0
    shot(page, "indicator-trace")

    page.goto(f"{live_server.url}/admin/indicators/scorecardboard/")
    page.wait_for_selector("#grade-chart[data-ready]")
    counts = json.loads(page.get_attribute("#grade-chart", "data-ready"))
    cards = Scorecard.objects.filter(quarter=Scorecard.objects.order_by("-quarter").values("quarter")[:1])
    assert counts[:4] == [cards.filter(eligible=True, grade=g).count() for g in "ABCD"] and sum(counts) == cards.count()
    assert _overflow(page) <= 0
    page.wait_for_timeout(800)
    shot(page, "scorecard")
    page.click("#board tbody tr:first-child td:nth-child(3) a")
    page.wait_for_selector("#sheet-criteria")
    assert _overflow(page) <= 0
    shot(page, "scorecard-sheet")
    page.goto(f"{live_server.url}/admin/indicators/scorecardboard/")
    page.click("#board-tabs a:has-text('年度考核')")
    page.wait_for_selector("#board")
    assert _overflow(page) <= 0


def test_an_operator_manager_sees_their_own_figures_against_the_citys(page, live_server, computed, shot):
    _log_in(page, live_server, computed["operator1"])
    page.wait_for_selector("#operator-indicators .operator-figures")
    assert _overflow(page) <= 0
    own = Operator.objects.get(accounts__user__username="operator1")
    page.goto(f"{live_server.url}/admin/operators/operator/{own.pk}/change/")
    page.wait_for_selector(".extension-panel .operator-figures")
    assert _overflow(page) <= 0
    shot(page, "operator-indicators", element=".extension-panel:has(.operator-figures)")
    page.goto(f"{live_server.url}/admin/indicators/indicatorexplorer/?code=AVAIL&level=station&period=day")
    page.wait_for_selector("#ind-map[data-ready]", timeout=20_000)
    ranking = page.inner_text("#ranking")
    others = Operator.objects.exclude(pk=own.pk).filter(stations__isnull=False)
    assert own.operator_id in ranking and not any(o.operator_id in ranking for o in others)
    assert _overflow(page) <= 0
    shot(page, "indicators-operator")
