"""Admin for the protocol layer: rotation shows new keys once and never stores them; the journal is read-only."""

import pytest
from django.urls import reverse

from apps.interconnect.models import Exchange, OperatorKeySet
from apps.interconnect.services import operator_provision

pytestmark = pytest.mark.django_db


def test_rotation_action_shows_the_new_keys_once(client, django_user_model):
    old = operator_provision(operator_id="123456789", name="运营商")["inbound"]
    client.force_login(django_user_model.objects.create_superuser("root", password="x" * 12))
    row = OperatorKeySet.objects.get(direction="inbound")
    response = client.post(
        reverse("admin:interconnect_operatorkeyset_changelist"),
        {"action": "rotate_inbound", "_selected_action": [row.pk]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "仅显示这一次" in html
    current = OperatorKeySet.objects.get(direction="inbound", retires_at__isnull=True)
    assert current.pk != row.pk
    from apps.interconnect.keys import keyset_as_wire

    new = keyset_as_wire(current)
    assert new["SigSecret"] in html
    assert new != old
    assert OperatorKeySet.objects.get(pk=row.pk).retires_at is not None  # the old set is in its overlap
    # Nothing of the secret is shown anywhere afterwards.
    page = client.get(reverse("admin:interconnect_operatorkeyset_change", args=[current.pk])).content.decode()
    assert new["SigSecret"] not in page
    assert "gcm1:" not in page


def test_regulators_cannot_rotate_or_edit_the_journal(client, regulator):
    operator_provision(operator_id="123456789", name="运营商")
    client.force_login(regulator)
    row = OperatorKeySet.objects.get(direction="inbound")
    response = client.post(
        reverse("admin:interconnect_operatorkeyset_changelist"),
        {"action": "rotate_inbound", "_selected_action": [row.pk]},
    )
    assert OperatorKeySet.objects.filter(direction="inbound").count() == 1
    assert response.status_code in (200, 302, 403)
    assert client.get(reverse("admin:interconnect_exchange_add")).status_code == 403
    assert not Exchange.objects.exists()


def test_tokens_can_be_revoked_but_the_journal_cannot_be_deleted(client, django_user_model):
    from apps.interconnect.journal import journal_record
    from apps.interconnect.models import AccessToken
    from apps.interconnect.tokens import token_issue
    from apps.operators.models import Operator

    operator_provision(operator_id="123456789", name="运营商")
    operator = Operator.objects.get(pk="123456789")
    token_issue(operator=operator)
    row = journal_record(operator=operator, interface="query_token", direction="in", ret=0)
    client.force_login(django_user_model.objects.create_superuser("root", password="x" * 12))
    token = AccessToken.objects.get()
    client.post(
        reverse("admin:interconnect_accesstoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert not AccessToken.objects.exists()
    assert client.post(reverse("admin:interconnect_exchange_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert Exchange.objects.filter(pk=row.pk).exists()


def test_journal_filters_answer_a_value_the_column_cannot_hold_with_the_admin_notice(client, regulator):
    client.force_login(regulator)
    url = reverse("admin:interconnect_exchange_changelist")
    assert client.get(url, {"ret": "0"}).status_code == 200
    bad = client.get(url, {"ret": "abc"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]  # Django's "incorrect lookup", not a 500
