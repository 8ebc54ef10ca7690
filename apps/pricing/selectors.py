"""Reads of tariffs: the policy version in force at a moment, and the period (and prices) at a time of day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .models import BusinessPolicy, PolicyPeriod


@dataclass(frozen=True, slots=True)
class Price:
    """What one kWh cost at a moment: the version, the period's start (HHmmss) and its two prices."""

    policy_id: int
    period_start: str
    elec_price: Decimal
    sevice_price: Decimal


def hhmmss(moment: dt.datetime) -> str:
    """Beijing time of day as the periods write it (`083000`)."""
    return timezone.localtime(moment).strftime("%H%M%S")


def period_at(periods: Sequence[PolicyPeriod], moment: dt.datetime) -> PolicyPeriod | None:
    """The period in force at `moment`'s time of day: the last one starting at or before it (periods sorted by
    StartTime; one that does not start at 000000 leaves the night before it uncovered)."""
    clock = hhmmss(moment)
    found = None
    for period in periods:
        if period.start_time <= clock:
            found = period
        else:
            break
    return found


def policies_with_periods(queryset: QuerySet[BusinessPolicy] | None = None) -> QuerySet[BusinessPolicy]:
    periods = Prefetch("periods", queryset=PolicyPeriod.objects.order_by("start_time"))
    return (queryset if queryset is not None else BusinessPolicy.objects.all()).prefetch_related(periods)


def versions_of(connector_ids: Iterable[int]) -> dict[int, list[BusinessPolicy]]:
    """Every version of each connector's policy with its periods, newest first: two queries for any number (only
    what prices need is read: every order push asks this)."""
    found: dict[int, list[BusinessPolicy]] = {}
    periods = Prefetch(
        "periods",
        queryset=PolicyPeriod.objects.only("policy_id", "start_time", "elec_price", "sevice_price").order_by(
            "start_time"
        ),
    )
    queryset = (
        BusinessPolicy.objects.filter(connector_id__in=list(connector_ids))
        .only("connector_id", "effective_from")
        .order_by("-effective_from")
        .prefetch_related(periods)
    )
    for policy in queryset:
        found.setdefault(policy.connector_id, []).append(policy)
    return found


def version_at(versions: Sequence[BusinessPolicy], moment: dt.datetime) -> BusinessPolicy | None:
    """The version in force at `moment` among `versions` (newest first): the newest that took effect by then."""
    return next((policy for policy in versions if policy.effective_from <= moment), None)


def price_at(versions: Sequence[BusinessPolicy], moment: dt.datetime) -> Price | None:
    """The prices in force at `moment`, or None when no known version (or period) covers it."""
    policy = version_at(versions, moment)
    if policy is None:
        return None
    period = period_at(list(policy.periods.all()), moment)
    if period is None:
        return None
    return Price(policy.pk, period.start_time, period.elec_price, period.sevice_price)


def connector_price_at(connector_id: int, moment: dt.datetime) -> Price | None:
    """The price of one connector at a moment (the admin's question: what did this connector cost then?)."""
    return price_at(versions_of([connector_id]).get(connector_id, []), moment)
