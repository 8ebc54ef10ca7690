"""Reads of drivers: a wallet's balance is the sum of its ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from .models import WalletEntry


def balance_of(driver_id: int) -> Decimal:
    """The balance: Σ amounts of the driver's entries (the running `balance_after` must always equal it)."""
    total = WalletEntry.objects.filter(driver_id=driver_id).aggregate(total=Sum("amount"))["total"]
    return (total or Decimal(0)).quantize(Decimal("0.01"))
