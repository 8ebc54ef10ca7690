"""Writes of tariffs: a connector's policy as the operator declared it, kept as a new version only when it changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.core.serials import next_serial
from apps.interconnect.client import NotConfigured, operator_client
from apps.protocol import schema
from apps.protocol.errors import ClientError
from apps.protocol.names import Interface
from apps.stations.models import Connector

from .models import BusinessPolicy, PolicyCheck, PolicyPeriod, PolicySource
from .selectors import policies_with_periods

PRICE_PLACES = Decimal("0.0001")


def _periods_key(items: list[tuple[str, Decimal, Decimal]]) -> list[tuple[str, Decimal, Decimal]]:
    return sorted(
        (start, elec.quantize(PRICE_PLACES), service.quantize(PRICE_PLACES)) for start, elec, service in items
    )


@transaction.atomic
def policy_observe(
    *,
    connector: Connector,
    infos: list[dict[str, Any]],
    observed_at: dt.datetime,
    equip_biz_seq: str = "",
    source: str = PolicySource.PULL,
) -> tuple[BusinessPolicy, bool]:
    """Record the PolicyInfos a connector has now; returns (the version in force, whether it is new).

    A new version, effective from `observed_at`, only when the periods differ from the current version's: a
    daily pull of an unchanged tariff leaves one version, and its history shows only real changes.
    """
    wanted = _periods_key([(i["StartTime"], Decimal(i["ElecPrice"]), Decimal(i["SevicePrice"])) for i in infos])
    current = (
        policies_with_periods(BusinessPolicy.objects.select_for_update().filter(connector=connector))
        .order_by("-effective_from")
        .first()
    )
    if current is not None:
        have = _periods_key([(p.start_time, p.elec_price, p.sevice_price) for p in current.periods.all()])
        if have == wanted:
            return current, False
    policy = BusinessPolicy.objects.create(
        operator_id=connector.operator_id,
        connector=connector,
        effective_from=observed_at,
        equip_biz_seq=equip_biz_seq,
        source=source,
    )
    PolicyPeriod.objects.bulk_create(
        PolicyPeriod(policy=policy, start_time=start, elec_price=elec, sevice_price=service)
        for start, elec, service in wanted
    )
    return policy, True


def policy_check_record(
    *,
    connector: Connector,
    checked_at: dt.datetime,
    succ_stat: int,
    fail_reason: int,
    equip_biz_seq: str,
    policy: BusinessPolicy | None,
) -> None:
    """Remember the last question about a connector's policy, so the next pull asks the longest-unasked first."""
    PolicyCheck.objects.update_or_create(
        connector=connector,
        defaults={
            "operator_id": connector.operator_id,
            "checked_at": checked_at,
            "succ_stat": succ_stat,
            "fail_reason": fail_reason,
            "equip_biz_seq": equip_biz_seq,
            "policy": policy,
        },
    )


def policy_unreachable_key(operator_id: str) -> str:
    """The cache key saying an operator could not be reached for a policy just now (its value: the error)."""
    return f"hlht:policy-unreachable:{operator_id}"


def policy_error_key(connector_pk: int) -> str:
    """The cache key of the last failed question about one connector's policy (its value: the error)."""
    return f"hlht:policy-error:{connector_pk}"


def connector_policy_ask(*, connector_id: int) -> str:
    """Ask the connector's operator for its business policy now (query_equip_business_policy; a task runs this, never
    a web request) and record the answer: a new version only when the periods change, the check either way.

    Returns "" or the error, which is also kept for HLHT_DRIVER_POLICY_BACKOFF seconds for the page that asked; an
    operator that could not be reached is not asked again for that long (a platform that is down would otherwise
    hold a worker for the client's whole timeout on every driver's look)."""
    connector = Connector.objects.select_related("operator").get(pk=connector_id)
    now = timezone.now()
    seq = next_serial(conf().protocol.operator_id)
    error = ""
    try:
        with operator_client(connector.operator) as client:
            data = client.call(Interface.QUERY_EQUIP_BUSINESS_POLICY,
                               {"EquipBizSeq": seq, "ConnectorID": connector.connector_id})  # fmt: skip
    except (ClientError, NotConfigured) as exc:
        error = str(exc)
        cache.set(policy_unreachable_key(connector.operator_id), error, conf().charging.policy_backoff_seconds)
    else:
        problems = schema.validate(data, schema.QUERY_EQUIP_BUSINESS_POLICY_RESPONSE)
        if problems:
            error = problems[0].message
        else:
            policy = None
            if data["SuccStat"] == 0:
                policy, _ = policy_observe(connector=connector, infos=data["PolicyInfos"], observed_at=now,
                                           equip_biz_seq=seq)  # fmt: skip
            policy_check_record(connector=connector, checked_at=now, succ_stat=data["SuccStat"],
                                fail_reason=data["FailReason"], equip_biz_seq=seq, policy=policy)  # fmt: skip
    if error:
        cache.set(policy_error_key(connector.pk), error, conf().charging.policy_backoff_seconds)
    else:
        cache.delete(policy_error_key(connector.pk))
    return error
