"""The wallet is a ledger: every movement one immutable entry, posted once per business event, balance its sum."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction

from apps.core.exceptions import Conflict, ValidationFailed
from apps.drivers.choices import EntryKind, PaymentKind
from apps.drivers.models import Driver, ImmutableEntry, Notification, WalletEntry
from apps.drivers.selectors import balance_of
from apps.drivers.services import (
    driver_register,
    order_charge,
    wallet_hold,
    wallet_refund,
    wallet_release,
    wallet_top_up,
)
from tests import factories

pytestmark = pytest.mark.django_db
PORTAL = "MA01H3BQ2"


@pytest.fixture
def driver(db):
    return driver_register(phone="13812345678", plate="京AD12345")


def _balance_after_is_the_sum(driver: Driver) -> None:
    last = WalletEntry.objects.filter(driver=driver).order_by("-id").first()
    assert (
        last.balance_after == balance_of(driver.pk) == sum(e.amount for e in WalletEntry.objects.filter(driver=driver))
    )


def test_a_top_up_is_credited_once_per_receipt(driver):
    first = wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-1")
    again = wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-1")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("20.5"), key="PAY-2")
    assert first.created and not again.created and again.entry.pk == first.entry.pk
    assert balance_of(driver.pk) == Decimal("120.50")
    _balance_after_is_the_sum(driver)


def test_entries_are_never_changed_or_deleted(driver):
    entry = wallet_top_up(driver_id=driver.pk, amount=Decimal("10"), key="PAY-1").entry
    entry.amount = Decimal("1000")
    with pytest.raises(ImmutableEntry):
        entry.save()
    with pytest.raises(ImmutableEntry):
        entry.delete()
    with pytest.raises(ImmutableEntry):
        WalletEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1000"))
    with pytest.raises(ImmutableEntry):
        WalletEntry.objects.all().delete()
    assert balance_of(driver.pk) == Decimal("10.00")


def test_the_database_refuses_an_amount_whose_sign_contradicts_its_kind(driver):
    with pytest.raises(IntegrityError), transaction.atomic():
        WalletEntry.objects.bulk_create([WalletEntry(driver=driver, kind=EntryKind.CHARGE, amount=Decimal("5"),
                                                     balance_after=Decimal("5"), key="x")])  # fmt: skip


def test_a_hold_needs_the_minimum_and_an_active_account(driver):
    with pytest.raises(Conflict, match="余额 0.00 元低于"):
        wallet_hold(driver_id=driver.pk, amount=Decimal("50"), seq=f"{PORTAL}000000000000000001", minimum=Decimal("10"))
    wallet_top_up(driver_id=driver.pk, amount=Decimal("30"), key="PAY-1")
    hold = wallet_hold(driver_id=driver.pk, amount=Decimal("50"), seq=f"{PORTAL}000000000000000001",
                       minimum=Decimal("10"))  # fmt: skip
    assert hold.entry.amount == Decimal("-30.00")  # never more than the balance
    assert balance_of(driver.pk) == 0
    wallet_release(driver_id=driver.pk, seq=f"{PORTAL}000000000000000001")
    wallet_release(driver_id=driver.pk, seq=f"{PORTAL}000000000000000001")
    assert balance_of(driver.pk) == Decimal("30.00")
    Driver.objects.filter(pk=driver.pk).update(status="suspended")
    with pytest.raises(Conflict, match="停用"):
        wallet_hold(driver_id=driver.pk, amount=Decimal("5"), seq=f"{PORTAL}000000000000000002", minimum=Decimal(0))


def test_an_enterprise_account_holds_nothing_and_is_charged_on_the_ledger(directory):
    boss = driver_register(phone="13900000000", payment=PaymentKind.ENTERPRISE, enterprise="某物流公司")
    assert wallet_hold(driver_id=boss.pk, amount=Decimal("50"), seq=f"{PORTAL}000000000000000009",
                       minimum=Decimal("10")) is None  # fmt: skip
    order = factories.order(directory["connectors"]["123456789"], start_charge_seq=f"{PORTAL}000000000000000009")
    order_charge(driver_id=boss.pk, order=order, revision="order:r1")
    assert balance_of(boss.pk) == Decimal("-45.00")  # billed at the month's end
    with pytest.raises(ValidationFailed, match="payment"):
        wallet_top_up(driver_id=boss.pk, amount=Decimal("1"), key="PAY-9")


def test_an_order_is_charged_once_and_a_correction_posts_the_difference(driver, directory):
    seq = f"{PORTAL}000000000000000001"
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-1")
    wallet_hold(driver_id=driver.pk, amount=Decimal("50"), seq=seq, minimum=Decimal("10"))
    order = factories.order(directory["connectors"]["123456789"], start_charge_seq=seq)  # 45.00
    first = order_charge(driver_id=driver.pk, order=order, revision="order:r1")
    assert first.entry.amount == Decimal("-45.00") and balance_of(driver.pk) == Decimal("55.00")
    assert order_charge(driver_id=driver.pk, order=order, revision="order:r1") is None  # the same order again: nothing
    order.total_money = Decimal("40.00")
    refund = order_charge(driver_id=driver.pk, order=order, revision="order:r2")
    assert (refund.entry.kind, refund.entry.amount) == (EntryKind.REFUND, Decimal("5.00"))
    order.total_money = Decimal("42.10")
    more = order_charge(driver_id=driver.pk, order=order, revision="order:r3")
    assert (more.entry.kind, more.entry.amount) == (EntryKind.CHARGE, Decimal("-2.10"))
    assert balance_of(driver.pk) == Decimal("57.90")  # 100 − 42.10: the hold came back once
    assert list(WalletEntry.objects.filter(driver=driver).values_list("kind", flat=True).order_by("id")) == [
        EntryKind.TOP_UP, EntryKind.HOLD, EntryKind.RELEASE, EntryKind.CHARGE, EntryKind.REFUND, EntryKind.CHARGE,
    ]  # fmt: skip
    assert Notification.objects.filter(driver=driver).count() == 3
    _balance_after_is_the_sum(driver)


def test_a_refund_needs_a_reason(driver):
    with pytest.raises(ValidationFailed, match="note"):
        wallet_refund(driver_id=driver.pk, amount=Decimal("1"), key="D1", by="reg", note=" ")
    wallet_refund(driver_id=driver.pk, amount=Decimal("1"), key="D1", by="reg", note="争议处理")
    assert WalletEntry.objects.get(kind=EntryKind.REFUND).created_by == "reg"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"phone": "12345"}, "phone"), ({"phone": "13812345679", "plate": "ABC"}, "plate"),
     ({"phone": "13812345679", "payment": "cash"}, "payment"),
     ({"phone": "13812345679", "payment": "enterprise"}, "enterprise")],
)  # fmt: skip
def test_registration_errors_name_the_field(db, kwargs, field):
    with pytest.raises(ValidationFailed) as caught:
        driver_register(**kwargs)
    assert caught.value.field == field


def test_a_phone_registers_once(driver):
    with pytest.raises(Conflict, match="phone"):
        driver_register(phone="13812345678")


def test_operators_staff_never_see_drivers_or_wallets(driver, manager_a, regulator):
    wallet_top_up(driver_id=driver.pk, amount=Decimal("10"), key="PAY-1")
    assert not Driver.objects.for_user(manager_a).exists() and not WalletEntry.objects.for_user(manager_a).exists()
    assert Driver.objects.for_user(regulator).count() == 1


def test_the_admin_masks_phone_and_plate(driver, client, regulator):
    client.force_login(regulator)
    page = client.get(f"/admin/drivers/driver/{driver.pk}/change/").content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert "京AD12345" not in page


def test_the_admin_shows_each_balance_as_the_ledger_sums_it(driver, client, regulator):
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-1")
    wallet_hold(driver_id=driver.pk, amount=Decimal("30.50"), seq=f"{PORTAL}000000000000000001", minimum=Decimal("10"))
    empty = driver_register(phone="13900000001")
    client.force_login(regulator)
    listing = client.get("/admin/drivers/driver/")
    shown = {row.pk: row.wallet_balance for row in listing.context["cl"].result_list}
    assert (
        shown
        == {driver.pk: balance_of(driver.pk), empty.pk: Decimal("0.00")}
        == {
            driver.pk: Decimal("69.50"),
            empty.pk: Decimal("0"),
        }
    )
    assert "69.50" in client.get(f"/admin/drivers/driver/{driver.pk}/change/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_keep_the_running_balance_right(driver):
    errors: list[BaseException] = []

    def top_up(n: int) -> None:
        try:
            for k in range(10):
                wallet_top_up(driver_id=driver.pk, amount=Decimal("1.00"), key=f"T{n}-{k}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=top_up, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if connection.vendor == "sqlite":  # one writer at a time: a loser may see "database is locked"
        errors = [e for e in errors if "locked" not in str(e)]
    assert not errors
    running = list(WalletEntry.objects.filter(driver=driver).order_by("id").values_list("balance_after", flat=True))
    if connection.vendor == "postgresql":
        assert len(running) == 60
    # Every committed posting saw all those before it: the running balance climbs by exactly one each time.
    assert running == [Decimal(n) for n in range(1, len(running) + 1)] and balance_of(driver.pk) == len(running)
