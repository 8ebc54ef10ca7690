"""An operator onboards in a real browser: the public form, a regulator's approval and the keys shown once, the
manager's own keys, the conformance check against its (simulated) platform."""

import json
import re
from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from apps.core.jobs import Recorder, enqueue_by, job_run
from apps.core.roles import REGULATOR
from apps.onboarding.models import Application, ConformanceReport
from apps.operators.models import Operator
from apps.protocol import CST, KeySet
from apps.protocol.creditcode import check_character
from tests.simulator.support import OUTBOUND, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
# The page's own submit button (the theme draws <button>s, the portal's pages <input>s; the header's hidden
# log-out form is not visible).
SUBMIT = "form [type=submit]:visible >> nth=0"
BODY = "91110108MA01CN7K2"
CODE = BODY + check_character(BODY)
WRONG = BODY + ("A" if CODE[-1] != "A" else "B")


def _log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(SUBMIT)
    page.wait_for_selector("#content")


def test_apply_approve_keys_once_conformance(page, live_server, roles, django_user_model, shot):
    cache.clear()
    page.goto(f"{live_server.url}/apply/")
    values = {"legal_name": "北京测试充电科技有限公司", "credit_code": WRONG, "contact_name": "张工",
              "contact_phone": "13800000000", "service_tel": "400-800-0000", "reg_address": "北京市海淀区",
              "base_url": "http://127.0.0.1:9/evcs/v1/", "station_count": "20", "connector_count": "200",
              "email": "ops@example.com"}  # fmt: skip
    for name, value in values.items():
        page.fill(f"#id_{name}", value)
    page.select_option("#id_kind", "operator")
    page.click("button[type=submit]")
    assert "校验位错误" in page.inner_text("#field-credit_code")  # the field says what is wrong
    shot(page, "onboarding-form")
    page.fill("#id_credit_code", CODE)
    page.click("button[type=submit]")
    reference = page.inner_text("#reference")
    assert Application.objects.get(reference=reference).applied_operator_id == "MA01CN7K2"

    regulator = django_user_model.objects.create_user("reg", password="a-long-test-password", is_staff=True)
    regulator.groups.add(Group.objects.get(name=REGULATOR))
    _log_in(page, live_server, "reg", "a-long-test-password")
    page.goto(f"{live_server.url}/admin/onboarding/application/")
    page.click(f"text={reference}")
    page.click("#approve")
    page.fill("#id_reason", "材料齐全")
    page.click(SUBMIT)
    page.click("#reveal")
    keys = json.loads(page.inner_text("#keys"))
    link = page.inner_text("#password-link").strip()
    page.reload()  # the POST is not repeated by a reload prompt-free GET: the keys are gone
    assert page.locator("#keys").count() == 0

    inbound = KeySet(*(keys["inbound"][k] for k in ("OperatorSecret", "DataSecret", "DataSecretIV", "SigSecret")))
    sim = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=25, seed=5,
                   operator_id="MA01CN7K2", inbound=inbound, outbound=OUTBOUND)  # fmt: skip
    try:
        page.context.clear_cookies()
        page.goto(link)
        page.fill("#id_new_password1", "Ab3-very-long-passphrase")
        page.fill("#id_new_password2", "Ab3-very-long-passphrase")
        page.click(SUBMIT)
        _log_in(page, live_server, "op_ma01cn7k2", "Ab3-very-long-passphrase")
        page.click("#onboarding a:has-text('填写对接密钥')")
        page.fill("#id_endpoint_url", sim.base_url)
        for name, value in (("OperatorSecret", OUTBOUND.operator_secret), ("DataSecret", OUTBOUND.data_secret),
                            ("DataSecretIV", OUTBOUND.data_secret_iv), ("SigSecret", OUTBOUND.sig_secret)):  # fmt: skip
            page.fill(f"#id_{name}", value)
        page.click(SUBMIT)
        sim.set_connector_status(usable(sim)[0], 4)  # a push: the platform fetches its token from the portal
        assert sim.flush(20)
        page.click("#onboarding a:has-text('运行一致性检测')")
        with enqueue_by(Recorder()) as sent:
            page.click("#run")
            # The check is queued and the page polls its status; a worker (here: this thread) then runs it.
            page.wait_for_selector("#job-status[data-status=queued]")
        job_run(*sent[0][1])
        page.wait_for_selector("text=一致性检测通过", timeout=60_000)
        shot(page, "conformance-report")
    finally:
        sim.stop()
    report = ConformanceReport.objects.get(operator_id="MA01CN7K2")
    assert report.passed
    assert re.search(r"✔ 通过", page.content()) and "✘ 未通过" not in page.content()
    assert Operator.objects.get(pk="MA01CN7K2").status == "testing"  # live only when a regulator says so
