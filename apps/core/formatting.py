"""How the portal writes a number or a time for a person: energy in kWh to one decimal, money in 元 to two, counts
with thousands separators; a correctness percentage keeps the selector's four decimals (99.985 is not 99.99); times
in Beijing to the minute in lists, to the second on hover. One helper for every page (template filters in
apps.core.templatetags.hlht_format, the admin's columns, the dashboard); the figures themselves stay exact Decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

EMPTY = "—"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def fixed(value: object, places: int) -> str:
    """`value` rounded half up to `places` decimals, with thousands separators; — for nothing."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    quantum = Decimal(1).scaleb(-places)
    return f"{number.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def kwh(value: object) -> str:
    """Energy: 4245.35 → "4,245.4"."""
    return fixed(value, 1)


def yuan(value: object) -> str:
    """Money: 87.5 → "87.50"."""
    return fixed(value, 2)


def count(value: object) -> str:
    """A count: 12345 → "12,345"."""
    return fixed(value, 0)


def compact_time(value: datetime | None, *, now: datetime | None = None) -> str:
    """A time in Beijing to the minute, the year left out when it is this year's: 12-05 20:55 (2025-12-05 20:55)."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value)
    this_year = timezone.localtime(now or timezone.now()).year
    return f"{local:%m-%d %H:%M}" if local.year == this_year else f"{local:%Y-%m-%d %H:%M}"


def full_time(value: datetime | None) -> str:
    """A time in Beijing to the second, as a detail page and the hover over a compact time show it."""
    return EMPTY if value is None else f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"
