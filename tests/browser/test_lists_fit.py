"""At 1,440 px every admin list a regulator opens shows its columns without horizontal scrolling; long texts are
cut with the whole text on hover."""

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.urls import reverse

from apps.demo.data import demo_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
# The page's own submit button (the theme draws <button>s, the portal's pages <input>s; the header's hidden
# log-out form is not visible).
SUBMIT = "form [type=submit]:visible >> nth=0"


def test_every_changelist_fits_at_1440(page, live_server):
    cache.clear()
    login = next(x for x in demo_load(seed=1) if x.username == "regulator")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", login.username)
    page.fill("#id_password", login.password)
    page.click(SUBMIT)
    page.wait_for_selector("#content")
    wide = []
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = page.goto(live_server.url + url)
        if response.status == 403 or page.locator("#result_list").count() == 0:
            continue
        overflow = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
        if overflow > 0:
            wide.append((model._meta.label, overflow))
    assert not wide, wide
    # A cut text keeps its whole value on hover.
    page.goto(live_server.url + reverse("admin:stations_station_changelist"))
    cell = page.locator("#result_list td.field-station_name").first
    assert cell.get_attribute("title") == cell.inner_text()
