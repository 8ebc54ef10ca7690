"""Declared policies against what the station publishes: `ElectricityFee` and `ServiceFee` are free text, so the
check is whether every price of the policy appears in them (prices as numbers, to 0.005 元)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from apps.stations.models import Station

from .models import PolicyPeriod

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
HALF_CENT = Decimal("0.005")


def _numbers(text: str) -> list[Decimal]:
    return [Decimal(n) for n in _NUMBER.findall(text or "")]


def _unpublished(prices: Iterable[Decimal], text: str) -> list[Decimal]:
    published = _numbers(text)
    if not published:
        return []  # the station publishes no figure (详见现场…): nothing to compare with
    return sorted({p for p in prices if not any(abs(p - n) <= HALF_CENT for n in published)})


def published_fee_mismatches(station: Station, periods: Iterable[PolicyPeriod]) -> list[str]:
    """Why a policy disagrees with the station's published fees; empty when it agrees (or nothing is published)."""
    periods = list(periods)
    reasons = []
    elec = _unpublished((p.elec_price for p in periods), station.electricity_fee)
    if elec:
        reasons.append(
            f"电价 {'、'.join(map(str, elec))} 元/度不在站点公示的充电电费率“{station.electricity_fee[:60]}”中"
        )
    service = _unpublished((p.sevice_price for p in periods), station.service_fee)
    if service:
        reasons.append(
            f"服务费 {'、'.join(map(str, service))} 元/度不在站点公示的服务费率“{station.service_fee[:60]}”中"
        )
    return reasons
