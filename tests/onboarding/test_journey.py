"""An operator onboards through the forms: apply, be approved, receive keys once, enter its own keys, pass the
conformance check against its (simulated) platform, go live. And the refusals on the way."""

import json
import re
from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse

from apps.core.jobs import Recorder, enqueue_by, job_run
from apps.core.roles import OPERATOR_MANAGER, REGULATOR
from apps.core.tasks import job_run_task
from apps.interconnect.choices import KeyDirection
from apps.interconnect.keys import current_keyset, keyset_as_wire
from apps.onboarding.models import Application, KeyHandover
from apps.operators.models import Operator
from apps.protocol import CST, KeySet
from apps.protocol.creditcode import check_character
from tests import factories
from tests.simulator.support import OUTBOUND, make_sim, usable

BODY = "91110108MA01CN7K2"  # a 17-character body; the check character is computed, not typed
CODE = BODY + check_character(BODY)
OPERATOR_ID = "MA01CN7K2"


def _form(**changes):
    data = {
        "legal_name": "北京测试充电科技有限公司", "credit_code": CODE, "kind": "operator", "contact_name": "张工",
        "contact_phone": "13800000000", "service_tel": "400-800-0000", "reg_address": "北京市海淀区",
        "base_url": "http://127.0.0.1:9/evcs/v1/", "station_count": "20", "connector_count": "200",
        "email": "ops@example.com",
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()
    yield
    cache.clear()


def test_wrong_check_character_is_refused_naming_the_field(client, db):
    wrong = BODY + ("A" if CODE[-1] != "A" else "B")
    page = client.post(reverse("onboarding:apply"), _form(credit_code=wrong))
    assert page.status_code == 400
    html = page.content.decode()
    field = html[html.index('id="field-credit_code"') :][:800]
    assert "校验位错误" in field
    assert "应为" not in field  # the answer never names the character that would make the code pass
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"credit_code": "12345"}, "credit_code", "应为18位"),
        ({"email": "not-an-address"}, "email", "邮"),
        ({"legal_name": ""}, "legal_name", "请填写单位名称"),
        ({"station_count": "-1"}, "station_count", ""),
        ({"base_url": "ftp://x"}, "base_url", ""),
        ({"base_url": "http://platform.example.com:99999/evcs/v1/"}, "base_url", "端口"),  # was a 500
    ],
)
def test_every_field_error_names_its_field(client, db, changes, field, text):
    page = client.post(reverse("onboarding:apply"), _form(**changes))
    assert page.status_code == 400
    html = page.content.decode()
    block = html[html.index(f'id="field-{field}"') :][:600]
    assert 'class="errorlist' in block and text in block


def test_known_operator_and_duplicate_application_are_refused(client, db):
    assert client.post(reverse("onboarding:apply"), _form()).status_code == 200
    again = client.post(reverse("onboarding:apply"), _form(email="other@example.com"))
    assert again.status_code == 400 and "已有待审核的申请" in again.content.decode()
    factories.operator("MA59CU773")
    body = "91110000MA59CU773"
    taken = client.post(reverse("onboarding:apply"), _form(credit_code=body + check_character(body)))
    assert taken.status_code == 400 and "已接入本平台" in taken.content.decode()
    assert Application.objects.count() == 1


def test_submissions_are_rate_limited_per_address(client, db, settings):
    settings.HLHT_APPLY_PER_HOUR = 2
    for _ in range(2):
        assert client.post(reverse("onboarding:apply"), _form(legal_name="")).status_code == 400
    refused = client.post(reverse("onboarding:apply"), _form())
    assert refused.status_code == 429 and "每小时最多提交2次" in refused.content.decode()
    assert not Application.objects.exists()


def test_the_form_is_csrf_protected(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("onboarding:apply"), _form()).status_code == 403


def _user(django_user_model, name, group):
    user = django_user_model.objects.create_user(username=name, password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_form_approval_keys_once_outbound_keys_conformance_active(client, live_server, roles, django_user_model):
    # 1. The operator applies; the status page shows it pending.
    page = client.post(reverse("onboarding:apply"), _form(dialects=["dialect_bare_token"]))
    reference = re.search(r'id="reference">(\w+)<', page.content.decode()).group(1)
    status = client.post(reverse("onboarding:status"), {"reference": reference, "email": "OPS@example.com"})
    assert "待审核" in status.content.decode()
    assert (
        client.post(reverse("onboarding:status"), {"reference": reference, "email": "x@example.com"}).status_code == 400
    )
    application = Application.objects.get(reference=reference)
    assert application.applied_operator_id == OPERATOR_ID

    # 2. A regulator approves; the keys and the manager's password link are shown once.
    regulator = _user(django_user_model, "reg", REGULATOR)
    client.force_login(regulator)
    assert b'id="approve"' in client.get(reverse("admin:onboarding_application_change", args=[application.pk])).content
    answer = client.post(reverse("admin:onboarding_application_approve", args=[application.pk]), {"reason": "材料齐全"})
    assert answer.status_code == 302
    operator = Operator.objects.get(pk=OPERATOR_ID)
    assert (operator.status, operator.operator_name, operator.dialect_bare_token) == (
        "testing",
        "北京测试充电科技有限公司",
        True,
    )
    offered = client.get(answer["Location"]).content.decode()  # a GET only offers the one showing
    assert 'id="reveal"' in offered and "SigSecret" not in offered
    shown = client.post(answer["Location"])
    assert "no-store" in shown["Cache-Control"]
    html = shown.content.decode()
    keys = json.loads(re.search(r'<pre id="keys"[^>]*>(.*?)</pre>', html, re.S).group(1).replace("&quot;", '"'))
    assert keys["OperatorID"] == OPERATOR_ID and keys["inbound"] == keyset_as_wire(
        current_keyset(OPERATOR_ID, KeyDirection.INBOUND)
    )
    assert 'download="MA01CN7K2-keys.json"' in html
    link = re.search(r'<pre id="password-link"[^>]*>(.*?)</pre>', html, re.S).group(1).strip()
    second = client.post(answer["Location"]).content.decode()
    assert 'id="already-shown"' in second and keys["inbound"]["SigSecret"] not in second
    handover = KeyHandover.objects.get(operator=operator)
    assert handover.sealed == "" and handover.shown_by == regulator
    application.refresh_from_db()
    assert application.status == "approved" and application.history.latest().history_user == regulator

    # 3. The manager sets a password through the one-time link and signs in.
    client.logout()
    path = link.removeprefix(live_server.url).replace("http://testserver", "")
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    done = client.post(
        set_url, {"new_password1": "Ab3-very-long-passphrase", "new_password2": "Ab3-very-long-passphrase"}
    )
    assert done.status_code == 302
    assert client.login(username="op_ma01cn7k2", password="Ab3-very-long-passphrase")
    assert client.get(path, follow=True).context["validlink"] is False  # the link worked once

    # 4. The operator's platform runs (the simulator, with the keys it was handed); its manager enters its keys.
    inbound = KeySet(keys["inbound"]["OperatorSecret"], keys["inbound"]["DataSecret"], keys["inbound"]["DataSecretIV"],
                     keys["inbound"]["SigSecret"])  # fmt: skip
    sim = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=25, seed=5,
                   operator_id=OPERATOR_ID, inbound=inbound, outbound=OUTBOUND)  # fmt: skip
    try:
        home = client.get(reverse("admin:index")).content.decode()
        keys_url = reverse("admin:onboarding_outbound_keys", args=[OPERATOR_ID])
        assert keys_url in home
        bad = client.post(keys_url, {"endpoint_url": sim.base_url, "OperatorSecret": "x", "DataSecret": "short",
                                     "DataSecretIV": OUTBOUND.data_secret_iv,
                                     "SigSecret": OUTBOUND.sig_secret})  # fmt: skip
        assert bad.status_code == 200 and "DataSecret" in bad.content.decode()
        saved = client.post(keys_url, {"endpoint_url": sim.base_url, "OperatorSecret": OUTBOUND.operator_secret,
                                       "DataSecret": OUTBOUND.data_secret, "DataSecretIV": OUTBOUND.data_secret_iv,
                                       "SigSecret": OUTBOUND.sig_secret})  # fmt: skip
        assert saved.status_code == 302
        sim.set_connector_status(usable(sim)[0], 4)  # a push: the platform fetches its token from the portal
        assert sim.flush(20)

        # 5. The manager runs the conformance check: it is queued, a worker runs it, and it passes.
        with enqueue_by(Recorder()) as sent:
            run = client.post(reverse("admin:onboarding_conformancereport_run", args=[OPERATOR_ID]))
        assert run.status_code == 302 and sent.names() == [job_run_task.name]
        waiting = client.get(run["Location"])
        assert waiting.status_code == 200 and "排队中" in waiting.content.decode()
        job_run(*sent[0][1])  # what the worker does with the message
        report_page = client.get(run["Location"], follow=True).content.decode()
        assert "✔ 通过" in report_page and "✘ 未通过" not in report_page
    finally:
        sim.stop()

    # 6. The regulator activates the operator: allowed now that a passing report exists.
    client.force_login(regulator)
    operator.refresh_from_db()
    from tests.operators.test_admin_roles import _form as operator_form

    answer = client.post(reverse("admin:operators_operator_change", args=[OPERATOR_ID]),
                         operator_form(operator, status="active"))  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:3000]
    operator.refresh_from_db()
    assert operator.status == "active"


def test_activation_needs_a_passing_report_or_an_audited_override(client, regulator):
    from tests.operators.test_admin_roles import _form as operator_form

    operator = factories.operator("123456789", status="testing")
    client.force_login(regulator)
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    refused = client.post(url, operator_form(operator, status="active"))
    assert refused.status_code == 200 and "一致性检测报告" in refused.content.decode()
    operator.refresh_from_db()
    assert operator.status == "testing"
    allowed = client.post(url, operator_form(operator, status="active", activation_override="市局批准先行上线"))
    assert allowed.status_code == 302
    operator.refresh_from_db()
    assert operator.status == "active"
    last = operator.history.latest()
    assert last.history_user == regulator and "市局批准先行上线" in last.history_change_reason


def test_rejection_needs_a_reason_and_is_shown_to_the_applicant(client, db, roles, django_user_model):
    client.post(reverse("onboarding:apply"), _form())
    application = Application.objects.get()
    client.force_login(_user(django_user_model, "reg", REGULATOR))
    url = reverse("admin:onboarding_application_reject", args=[application.pk])
    assert "驳回须说明原因" in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "营业执照不清晰"}).status_code == 302
    client.logout()
    page = client.post(reverse("onboarding:status"), {"reference": application.reference, "email": application.email})
    assert "已驳回" in page.content.decode() and "营业执照不清晰" in page.content.decode()
    assert not Operator.objects.exists()


def test_operator_manager_cannot_review_or_see_another_operators_keys_page(client, db, roles, django_user_model):

    client.post(reverse("onboarding:apply"), _form())
    application = Application.objects.get()
    own, other = factories.operator("123456789"), factories.operator("MA59CU773")
    manager = _user(django_user_model, "m", OPERATOR_MANAGER)
    factories.OperatorAccountFactory(user=manager, operator=own)
    client.force_login(manager)
    assert client.post(reverse("admin:onboarding_application_approve", args=[application.pk]), {}).status_code == 403
    assert client.get(reverse("admin:onboarding_outbound_keys", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:onboarding_outbound_keys", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:onboarding_conformancereport_run", args=[other.pk])).status_code == 404


def test_internal_addresses_are_refused_unless_allowed(client, db, settings):
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = False
    for url in ("http://127.0.0.1:8000/evcs/v1/", "http://10.1.2.3/evcs/v1/", "http://[::1]/evcs/v1/",
                "http://169.254.169.254/latest/"):  # fmt: skip
        page = client.post(reverse("onboarding:apply"), _form(base_url=url)).content.decode()
        block = page[page.index('id="field-base_url"') :][:600]
        assert "内部地址" in block, url
    assert not Application.objects.exists()


def test_conformance_refuses_an_internal_endpoint(db, settings):
    from apps.interconnect.services import operator_provision
    from apps.onboarding.conformance import conformance_run
    from tests.simulator.support import SIM_ID, keys_file

    operator_provision(operator_id=SIM_ID, name="x", keys=keys_file(), status="testing",
                       endpoint="http://127.0.0.1:9/evcs/v1/")  # fmt: skip
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = False
    report = conformance_run(operator_id=SIM_ID)
    assert not report.passed and report.checks[0]["name"] == "configured" and "内部地址" in report.checks[0]["detail"]
    assert len(report.checks) == 1  # nothing was sent


def test_history_pages_are_scoped_and_never_restore(client, db, roles, django_user_model, regulator):

    own, other = factories.operator("123456789", status="testing"), factories.operator("MA59CU773", status="testing")
    Operator.objects.filter(pk=other.pk).update(operator_name="改过的名字")
    version = other.history.earliest()
    manager = _user(django_user_model, "m", OPERATOR_MANAGER)
    factories.OperatorAccountFactory(user=manager, operator=own)
    client.force_login(manager)
    history = reverse("admin:operators_operator_history", args=[other.pk])
    old = reverse("admin:operators_operator_simple_history", args=[other.pk, version.history_id])
    assert client.get(history).status_code == 404 and client.get(old).status_code == 404
    assert client.post(old, {"status": "active", "activation_override": "x"}).status_code == 404
    client.force_login(regulator)  # in scope, may view: still cannot restore an old version
    assert client.get(old).status_code == 200
    assert client.post(old, {"status": "active", "activation_override": "x"}).status_code == 403
    other.refresh_from_db()
    assert (other.status, other.operator_name) == ("testing", "改过的名字")


def test_import_never_changes_the_lifecycle(client, db, django_user_model, roles):
    from apps.operators.resources import OperatorResource

    operator = factories.operator("123456789", status="testing")
    exported = OperatorResource().export(Operator.objects.all())
    row = list(exported[0])
    row[exported.headers.index("接入状态")] = "active"
    data = OperatorResource().export(Operator.objects.none())
    data.append(row)
    result = OperatorResource().import_data(data, dry_run=False)
    assert not result.has_errors()
    operator.refresh_from_db()
    assert operator.status == "testing"


def test_a_kind_switch_does_not_bypass_the_gate(client, regulator):
    from tests.operators.test_admin_roles import _form as operator_form

    operator = factories.operator("123456789", status="active", kind="consumer")  # a live third-party platform
    client.force_login(regulator)
    url = reverse("admin:operators_operator_change", args=[operator.pk])
    # Regulators cannot change the kind; a platform admin can, and the gate holds for them too.
    platform_admin = _user(type(regulator), "pa", "platform_admin")
    client.force_login(platform_admin)
    refused = client.post(url, operator_form(operator, kind="operator"))
    assert refused.status_code == 200 and "一致性检测报告" in refused.content.decode()
    operator.refresh_from_db()
    assert operator.kind == "consumer"


def test_approval_refuses_to_reuse_someone_elses_login(client, db, roles, django_user_model):
    client.post(reverse("onboarding:apply"), _form())
    application = Application.objects.get()
    django_user_model.objects.create_user(username="op_ma01cn7k2", password="x" * 20, is_staff=True, is_superuser=True)
    reviewer = _user(django_user_model, "reg", REGULATOR)
    client.force_login(reviewer)
    page = client.post(reverse("admin:onboarding_application_approve", args=[application.pk]), {"reason": ""})
    assert page.status_code == 200 and "已被其他账号使用" in page.content.decode()
    assert not Operator.objects.exists()
    application.refresh_from_db()
    assert application.status == "pending"


def test_only_the_approving_regulator_sees_the_handover(client, db, roles, django_user_model):
    client.post(reverse("onboarding:apply"), _form())
    application = Application.objects.get()
    reviewer, colleague = _user(django_user_model, "reg", REGULATOR), _user(django_user_model, "reg2", REGULATOR)
    client.force_login(reviewer)
    approved = client.post(reverse("admin:onboarding_application_approve", args=[application.pk]), {})  # no note
    assert approved.status_code == 302, approved.content.decode()[:2000]
    handover_url = approved["Location"]
    client.force_login(colleague)
    assert client.post(handover_url).status_code == 403
    client.force_login(reviewer)
    assert 'id="keys"' in client.post(handover_url).content.decode()
