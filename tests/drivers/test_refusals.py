"""The wallet refuses a hold with a type per reason (callers branch on the type, never on the message)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.exceptions import Conflict
from apps.drivers.choices import DriverStatus
from apps.drivers.exceptions import BalanceTooLow, DriverSuspended
from apps.drivers.models import Driver
from apps.drivers.services import driver_register, wallet_hold, wallet_top_up

SEQ = "MA01HLHT0202401010000000001"


@pytest.fixture
def driver(db):
    return driver_register(phone="13800000001")


def test_a_balance_below_the_minimum_is_balance_too_low(driver):
    wallet_top_up(driver_id=driver.pk, amount=Decimal("5"), key="PAY-1")
    with pytest.raises(BalanceTooLow) as refused:
        wallet_hold(driver_id=driver.pk, amount=Decimal("50"), seq=SEQ, minimum=Decimal("10"))
    assert (refused.value.balance, refused.value.minimum) == (Decimal("5.00"), Decimal("10"))
    assert refused.value.message == "余额 5.00 元低于启动充电所需的 10 元"  # no "balance:" tag for programs to parse
    assert isinstance(refused.value, Conflict)


def test_a_suspended_account_is_driver_suspended(driver):
    wallet_top_up(driver_id=driver.pk, amount=Decimal("50"), key="PAY-1")
    Driver.objects.filter(pk=driver.pk).update(status=DriverStatus.SUSPENDED)
    with pytest.raises(DriverSuspended, match="^账户已停用$"):
        wallet_hold(driver_id=driver.pk, amount=Decimal("50"), seq=SEQ, minimum=Decimal("10"))
