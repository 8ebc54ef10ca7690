"""Why the wallet refuses a driver: one type per refusal, so callers branch on the type, never on the message."""

from __future__ import annotations

from decimal import Decimal

from apps.core.exceptions import Conflict


class DriverSuspended(Conflict):
    """The account may not charge (suspended by the platform)."""

    default_message = "账户已停用"


class BalanceTooLow(Conflict):
    """A prepaid balance below what starting a charge needs."""

    def __init__(self, *, balance: Decimal, minimum: Decimal) -> None:
        self.balance, self.minimum = balance, minimum
        super().__init__(f"余额 {balance} 元低于启动充电所需的 {minimum} 元")
