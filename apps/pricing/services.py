"""Writes of tariffs: a connector's policy as the operator declared it, kept as a new version only when it changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

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
