"""How the portal writes a number for a person: energy in kWh to one decimal, money in 元 to two, counts with
thousands separators; a correctness percentage keeps the selector's four decimals (99.985 is not 99.99). One helper
for every page (template filters in apps.core.templatetags.hlht_format, the admin's columns, the dashboard); the
figures themselves stay exact Decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
