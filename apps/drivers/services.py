"""Writes of drivers: accounts, and every movement of a wallet as one immutable ledger entry under the driver's lock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, Sum

from apps.core.exceptions import Conflict, ValidationFailed
from apps.orders.models import MONEY, ChargeOrder

from .choices import SIGNS, DriverStatus, EntryKind, PaymentKind
from .exceptions import BalanceTooLow, DriverSuspended
from .models import Driver, Notification, WalletEntry, phone_validator, plate_validator
from .selectors import balance_of, hold_key

CENT = Decimal("0.01")
# The largest amount or balance the ledger's MONEY columns hold (max_digits 12, 2 decimals).
BALANCE_LIMIT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]) - CENT


@dataclass(frozen=True)
class Posting:
    entry: WalletEntry
    created: bool  # False: the same business event had been posted already; nothing changed


def driver_register(*, phone: str, plate: str = "", payment: str = PaymentKind.PREPAID, enterprise: str = "",
                    password: str | None = None) -> Driver:  # fmt: skip
    """A driver account with its login (username = phone). Field errors name the field."""
    for field, value, validator in (("phone", phone, phone_validator), ("plate", plate, plate_validator)):
        if value or field == "phone":
            try:
                validator(value)
            except Exception as exc:
                raise ValidationFailed(exc.messages[0], field=field) from None
    if payment not in PaymentKind.values:
        raise ValidationFailed(f"应为 {', '.join(PaymentKind.values)}", field="payment")
    if payment == PaymentKind.ENTERPRISE and not enterprise.strip():
        raise ValidationFailed("企业账户须填写企业名称", field="enterprise")
    users = get_user_model()
    with transaction.atomic():
        if Driver.objects.filter(phone=phone).exists() or users.objects.filter(username=phone).exists():
            raise Conflict("phone: 该手机号已注册")
        user = users.objects.create_user(username=phone, password=password)
        return Driver.objects.create(
            user=user, phone=phone, plate=plate, payment=payment, enterprise=enterprise.strip()
        )


def _post(driver: Driver, *, kind: str, amount: Decimal, key: str, order: ChargeOrder | None = None,
          seq: str = "", note: str = "", by: str = "") -> Posting:  # fmt: skip
    """Post one entry once per (driver, key). The caller holds the driver's row lock (see `_locked`)."""
    amount = Decimal(amount).quantize(CENT)
    if amount <= 0:
        raise ValidationFailed("金额必须大于0", field="amount")
    existing = WalletEntry.objects.filter(driver=driver, key=key).first()
    if existing is not None:
        return Posting(existing, created=False)
    signed = amount * SIGNS[kind]
    after = _within_limit(balance_of(driver.pk), signed, amount)
    entry = WalletEntry(
        driver=driver, kind=kind, amount=signed, balance_after=after, key=key, order=order,
        start_charge_seq=seq or (order.start_charge_seq if order else ""), note=note[:200], created_by=by[:150],
    )  # fmt: skip
    # No savepoint: every posting holds the driver's lock (`_locked`), so no other transaction can post this key
    # between the read above and this insert.
    entry.save()
    return Posting(entry, created=True)


def _locked(driver_id: int) -> Driver:
    # Every posting of one driver goes through this lock, so balance_after is the sum of everything before it.
    return Driver.objects.select_for_update().get(pk=driver_id)


@transaction.atomic
def wallet_top_up(*, driver_id: int, amount: Decimal, key: str, by: str = "", note: str = "") -> Posting:
    """Money in (a payment gateway's receipt number as `key`, so a repeated notification credits once)."""
    driver = _locked(driver_id)
    if driver.payment != PaymentKind.PREPAID:
        raise ValidationFailed("企业账户按月结算，无需充值", field="payment")
    return _post(driver, kind=EntryKind.TOP_UP, amount=amount, key=f"top_up:{key}", by=by, note=note or "充值")


@transaction.atomic
def wallet_refund(*, driver_id: int, amount: Decimal, key: str, by: str, note: str) -> Posting:
    """Money back by a person's decision (a dispute settled in the driver's favour): who and why are kept."""
    if not note.strip():
        raise ValidationFailed("退款须说明原因", field="note")
    return _post(_locked(driver_id), kind=EntryKind.REFUND, amount=amount, key=f"refund:{key}", by=by, note=note)


@transaction.atomic
def wallet_hold(*, driver_id: int, amount: Decimal, seq: str, minimum: Decimal) -> Posting | None:
    """Reserve up to `amount` for the session `seq`; refused if the account may not charge or the balance is below
    `minimum`. None for an enterprise account: it is billed monthly, nothing is reserved."""
    driver = _locked(driver_id)
    if driver.status != DriverStatus.ACTIVE:
        raise DriverSuspended()
    if driver.payment == PaymentKind.ENTERPRISE:
        return None
    balance = balance_of(driver.pk)
    if balance < minimum or balance <= 0:
        raise BalanceTooLow(balance=balance, minimum=minimum)
    return _post(driver, kind=EntryKind.HOLD, amount=min(amount, balance), key=hold_key(seq), seq=seq,
                 note="启动充电预授权")  # fmt: skip


def _release(driver: Driver, seq: str) -> None:
    hold = WalletEntry.objects.filter(driver=driver, key=hold_key(seq)).first()
    if hold is not None:
        _post(driver, kind=EntryKind.RELEASE, amount=-hold.amount, key=_release_key(seq), seq=seq, note="预授权解冻")


@transaction.atomic
def wallet_release(*, driver_id: int, seq: str) -> None:
    """A session that never charged (start refused or failed): its hold comes back, once."""
    _release(_locked(driver_id), seq)


def order_charge(*, driver_id: int, order: ChargeOrder, revision: str, locked: Driver | None = None) -> Posting | None:
    """Charge a portal-started order's TotalMoney exactly once; a corrected order posts only the difference.

    `revision` names the order's content (the push and its revision, e.g. "order:r2"): each is posted at most once.
    Runs inside the transaction that stores the order (the caller's): the order and its money commit together or
    not at all. The session's hold is released in the same step. Returns None when nothing was owed or given back.
    `locked`: the driver's row when the caller holds its lock already (the session's lock takes its driver's).

    A fixed four statements on the order push's path: the lock (unless held), one read of the balance, the hold,
    its release and what the order was charged so far, one INSERT of the release and the charge, one of the
    notification. Under the driver's lock no other transaction posts for the driver, so no entry needs a savepoint
    of its own against a race on its key.
    """
    driver = locked if locked is not None else _locked(driver_id)
    seq = order.start_charge_seq
    key = f"order:{order.pk}:{revision}"
    sums = WalletEntry.objects.filter(driver_id=driver.pk).aggregate(
        balance=Sum("amount"),
        hold=Sum("amount", filter=Q(key=hold_key(seq))),
        released=Count("id", filter=Q(key=_release_key(seq))),
        charged=Sum("amount", filter=Q(order_id=order.pk)),
        posted=Count("id", filter=Q(key=key)),
    )
    balance = (sums["balance"] or Decimal(0)).quantize(CENT)
    entries: list[WalletEntry] = []
    if sums["hold"] is not None and not sums["released"]:
        balance = _within_limit(balance, -sums["hold"], -sums["hold"])
        entries.append(_release_entry(driver, seq, -sums["hold"], balance))
    charged = -(sums["charged"] or Decimal(0))
    owed = ((order.total_money or Decimal(0)) - charged).quantize(CENT)
    charge = None
    if owed != 0 and sums["posted"]:  # this revision was charged before (for other figures): what it posted stands
        WalletEntry.objects.bulk_create(entries)
        return Posting(WalletEntry.objects.get(driver=driver, key=key), created=False)
    if owed != 0:
        correction = "补扣" if owed > 0 else "退款"
        note = f"充电订单 {seq}" if charged == 0 else f"订单 {seq} 更正{correction}"
        kind = EntryKind.CHARGE if owed > 0 else EntryKind.REFUND
        signed = abs(owed) * SIGNS[kind]
        balance = _within_limit(balance, signed, abs(owed))
        charge = WalletEntry(driver=driver, kind=kind, amount=signed, balance_after=balance, key=key, order=order,
                             start_charge_seq=seq, note=note[:200])  # fmt: skip
        entries.append(charge)
    WalletEntry.objects.bulk_create(entries)
    if charge is None:
        return None
    title = "充电扣款" if owed > 0 else "充电退款"
    notify(driver=driver, key=key, seq=seq, title=title, body=f"{charge.note}：{abs(owed)} 元，余额 {balance} 元")
    return Posting(charge, created=True)


def _within_limit(balance: Decimal, signed: Decimal, amount: Decimal) -> Decimal:
    """The balance after `signed`, or Conflict when the amount or the balance leaves the columns' bound."""
    after = balance + signed
    if abs(signed) > BALANCE_LIMIT or abs(after) > BALANCE_LIMIT:  # the columns' bound: refused, never an overflow
        raise Conflict(f"amount: 金额 {amount} 元使余额超出可记录的范围（±{BALANCE_LIMIT} 元）")
    return after


def _release_key(seq: str) -> str:
    return f"release:{seq}"


def _release_entry(driver: Driver, seq: str, amount: Decimal, balance_after: Decimal) -> WalletEntry:
    return WalletEntry(driver=driver, kind=EntryKind.RELEASE, amount=amount, balance_after=balance_after,
                       key=_release_key(seq), start_charge_seq=seq, note="预授权解冻")  # fmt: skip


@transaction.atomic
def order_charge_settle(*, driver_id: int, order: ChargeOrder, amount: Decimal, by: str, note: str) -> Posting | None:
    """A person's decision on an order held for review: the session's hold comes back and the driver is charged
    `amount` in all for the order (what was charged already counts), once; who and why are kept."""
    driver = _locked(driver_id)
    _release(driver, order.start_charge_seq)
    charged = -sum((e.amount for e in WalletEntry.objects.filter(driver=driver, order=order)), Decimal(0))
    owed = Decimal(amount) - charged
    if owed == 0:
        return None
    kind = EntryKind.CHARGE if owed > 0 else EntryKind.REFUND
    return _post(driver, kind=kind, amount=abs(owed), key=f"order:{order.pk}:review", order=order, by=by,
                 note=f"订单 {order.start_charge_seq} 复核：{note}")  # fmt: skip


def notify(*, driver: Driver, key: str, title: str, body: str, seq: str = "") -> None:
    """One notification per (driver, key): a repeated event does not notify twice (one INSERT … ON CONFLICT DO
    NOTHING: a read first and a savepoint around the insert were three more round trips)."""
    Notification.objects.bulk_create(
        [Notification(driver=driver, key=key, title=title[:60], body=body[:400], start_charge_seq=seq)],
        ignore_conflicts=True,
    )
