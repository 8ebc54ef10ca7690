"""What a person sees on the two first screens at 1,440 px: the regulator's dashboard and an operator manager's home.
Nothing runs past the right edge or hides in an inner scroller, every panel has a title, each status series is drawn
in its status's colour (read back from the chart), and numbers are written the portal's way."""

import re

import pytest
from django.core.cache import cache

from apps.demo.data import demo_load
from apps.stations.choices import STATUS_COLOURS, ConnectorStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SUBMIT = "form [type=submit]:visible >> nth=0"

# Every element of the page: one whose content is wider than its box inside a scroller or a clip (an inner scroller,
# a cut text), and one whose box ends past the window's right edge. Elements drawn with no box (display: none)
# have neither; a box at most 1 px wide shows a person nothing (the sidebar scroller's size probe).
OVERFLOWS = """() => {
  const found = [];
  const name = (el) => {
    const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).slice(0, 3) : [];
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (classes[0] ? '.' + classes.join('.') : '');
  };
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const overflow = getComputedStyle(el).overflowX;
    if (['auto', 'scroll', 'hidden'].includes(overflow) && el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1) {
      found.push(['scrolls', name(el), el.scrollWidth, el.clientWidth, el.textContent.trim().slice(0, 40)]);
    }
    if (box.right > window.innerWidth + 1) {
      found.push(['past the edge', name(el), Math.round(box.right), window.innerWidth]);
    }
  }
  return found;
}"""

PANEL_TITLES = """() => [...document.querySelectorAll('.hlht-panel')].map(
  (panel) => [panel.id || panel.className, (panel.querySelector(':scope > h2')?.innerText || '').trim()])"""

SERIES_COLOURS = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  return chart.getOption().series.map((s) => [s.name, s.itemStyle && s.itemStyle.color, s.color]);
}"""

COUNT = re.compile(r"^\d{1,3}(,\d{3})*$")
KWH = re.compile(r"^\d{1,3}(,\d{3})*\.\d$")
# 4245.35000000000: a figure printed as the database holds it (a correctness percentage keeps its four decimals).
RAW_DECIMAL = re.compile(r"\d\.\d{3,}(?![\d%])")


@pytest.fixture
def logins(live_server):
    cache.clear()
    return {login.username: login for login in demo_load(seed=1)}


def _log_in(page, live_server, login):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", login.username)
    page.fill("#id_password", login.password)
    page.click(SUBMIT)
    page.wait_for_selector("#dashboard")
    page.wait_for_selector("#map[data-ready]", timeout=20_000)
    page.wait_for_timeout(800)  # the charts' entry animation


def _status_colours() -> dict[str, str]:
    return {
        **{label: STATUS_COLOURS[value] for value, label in ConnectorStatus.choices},
        "未收到状态": STATUS_COLOURS[None],
    }


def _assert_what_a_person_sees(page):
    assert page.evaluate(OVERFLOWS) == []
    titles = page.evaluate(PANEL_TITLES)
    assert len(titles) >= 6 and all(title for _, title in titles), titles
    series = page.evaluate(SERIES_COLOURS, "chart-districts")
    expected = _status_colours()
    assert series and all(item == expected[name] == line for name, item, line in series), series
    # Every district has its own label row: a horizontal bar per district, none skipped.
    labels = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-districts'))"
        ".getOption().yAxis[0].axisLabel.interval"
    )
    assert labels == 0
    text = page.inner_text("#dashboard")
    assert not RAW_DECIMAL.search(text), RAW_DECIMAL.search(text)
    for cell in page.locator("#status-now td.num").all_inner_texts():
        assert COUNT.match(cell), cell


def test_the_regulators_dashboard_uses_the_screen(page, live_server, logins, shot):
    _log_in(page, live_server, logins["regulator"])
    _assert_what_a_person_sees(page)
    energy = page.locator("#orders tbody td.num:nth-child(3)").all_inner_texts()
    counts = page.locator("#orders tbody td.num:nth-child(2)").all_inner_texts()
    assert energy and all(KWH.match(e) for e in energy) and all(COUNT.match(n) for n in counts), (energy, counts)
    # The map and the district chart share the row under the figures, side by side, using the width.
    map_box, chart_box = page.locator("#map").bounding_box(), page.locator("#chart-districts").bounding_box()
    assert map_box["width"] > 600 and chart_box["x"] > map_box["x"] + map_box["width"]
    shot(page, "dashboard")
    shot(page, "map", element="#map")


def test_the_operator_managers_home_in_the_same_panels(page, live_server, logins, shot):
    _log_in(page, live_server, logins["operator1"])
    assert page.locator("#operator-home .hlht-panel").count() >= 4
    _assert_what_a_person_sees(page)
    shot(page, "operator-home")
