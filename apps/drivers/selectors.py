"""Reads of drivers: a wallet's balance is the sum of its ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .choices import EntryKind
from .models import Driver, WalletEntry


def hold_key(seq: str) -> str:
    """The ledger key of a session's hold: one hold per StartChargeSeq."""
    return f"hold:{seq}"


def hold_of(driver_id: int, seq: str) -> Decimal | None:
    """The amount held for the session `seq` (positive; still held or released since), or None: nothing was held."""
    amount = (
        WalletEntry.objects.filter(driver_id=driver_id, key=hold_key(seq), kind=EntryKind.HOLD)
        .values_list("amount", flat=True)
        .first()
    )
    return None if amount is None else -amount


def hold_subquery(seq: str, driver: str = "driver_id") -> Subquery:
    """`hold_of` as a subquery of a row naming its driver in `driver` (negative: the entry's signed amount), so
    a lookup of a session reads its hold in the same statement."""
    held = WalletEntry.objects.filter(driver_id=OuterRef(driver), key=hold_key(seq), kind=EntryKind.HOLD)
    return Subquery(held.order_by().values("amount")[:1])


def balance_of(driver_id: int) -> Decimal:
    """The balance: Σ amounts of the driver's entries (the running `balance_after` must always equal it)."""
    total = WalletEntry.objects.filter(driver_id=driver_id).aggregate(total=Sum("amount"))["total"]
    return (total or Decimal(0)).quantize(Decimal("0.01"))


def drivers_with_balance(queryset: QuerySet[Driver]) -> QuerySet[Driver]:
    """Drivers annotated with `wallet_balance` (as balance_of computes it), one correlated sum per row of a page:
    a list of drivers asking balance_of for each row cost a query per driver."""
    total = (
        WalletEntry.objects.filter(driver=OuterRef("pk"))
        .order_by()
        .values("driver")
        .annotate(t=Sum("amount"))
        .values("t")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return queryset.annotate(
        wallet_balance=Coalesce(Subquery(total, output_field=money), Value(Decimal("0.00")), output_field=money)
    )
