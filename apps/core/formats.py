"""How people read figures and times on the portal's pages: kWh to one decimal, 元 to two, times compact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

NONE = "—"


def kwh(value: Decimal | float | None) -> str:
    """Energy in kWh, one decimal, thousands separated: 1,234.5."""
    return NONE if value is None else f"{value:,.1f}"


def yuan(value: Decimal | float | None) -> str:
    """Money in 元, two decimals, thousands separated: 1,234.50."""
    return NONE if value is None else f"{value:,.2f}"


def compact_time(value: datetime | None, *, now: datetime | None = None) -> str:
    """A time in Beijing to the minute, the year left out when it is this year's: 12-05 20:55 (2025-12-05 20:55)."""
    if value is None:
        return NONE
    local = timezone.localtime(value)
    this_year = timezone.localtime(now or timezone.now()).year
    return f"{local:%m-%d %H:%M}" if local.year == this_year else f"{local:%Y-%m-%d %H:%M}"


def full_time(value: datetime | None) -> str:
    """A time in Beijing to the second, as the detail page and the hover over a compact time show it."""
    return NONE if value is None else f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"
