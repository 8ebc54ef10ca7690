"""The order push with payment in a fixed few statements (issue 26): 43 before — a savepoint around every wallet
entry, the hold, the balance and the charged sum each read apart, the session's hold and the prices read twice, a
notification by get_or_create — against 18 now, whatever the driver's ledger holds; the money still moves once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.drivers.choices import EntryKind
from apps.drivers.models import Notification, WalletEntry
from apps.drivers.selectors import balance_of
from apps.drivers.services import wallet_top_up
from apps.protocol.names import Interface
from tests.charging.test_pushes import _start, live  # noqa: F401 - the session fixture the pushes use
from tests.orders.support import order

pytestmark = pytest.mark.django_db

# BEGIN (here the test's savepoint), token + replay mark, connector, session + hold, prices (2), order lock, order
# insert, report, details, session + driver lock, session update, event, ledger read, entries, notification,
# journal, COMMIT.
ORDER_PUSH_STATEMENTS = 18
WALLET_STATEMENTS = 3  # one read (balance, hold, release, charged so far), one INSERT of entries, the notification


def _push(caller, payload):
    with CaptureQueriesContext(connection) as ctx:
        answer = caller.call(Interface.NOTIFICATION_CHARGE_ORDER_INFO, payload)
    return answer, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("history", [0, 40])
def test_one_order_push_with_payment_costs_a_fixed_few_statements(live, settings, history):  # noqa: F811
    caller, session = live
    settings.HLHT_CALLER_CACHE_SECONDS = 30  # as in production: the caller's keys are read once, not per message
    for n in range(history):  # a longer ledger costs no more statements
        wallet_top_up(driver_id=session.driver_id, amount=Decimal("1"), key=f"PAY-H{n}")
    caller.call(Interface.NOTIFICATION_START_CHARGE_RESULT, _start(session))  # also warms the caller cache
    payload = order(number=session.start_charge_seq)
    answer, statements = _push(caller, payload)

    assert answer.data["ConfirmResult"] == 0
    # On SQLite the token check and the replay mark are two statements (the `mark` hook's CTE is PostgreSQL's).
    bound = ORDER_PUSH_STATEMENTS + (connection.vendor != "postgresql")
    assert len(statements) <= bound, "\n".join(s[:160] for s in statements)
    ledger = ('"drivers_walletentry"', '"drivers_notification"')
    # The session's lookup reads its hold in a subquery: counted in the total, not here.
    wallet = [s for s in statements if any(t in s for t in ledger) and '"charging_chargingsession"' not in s]
    assert len(wallet) <= WALLET_STATEMENTS, "\n".join(s[:160] for s in wallet)
    # One transaction, no savepoint inside it (the test's own outer savepoint is the message's BEGIN/COMMIT).
    assert sum(s.startswith("SAVEPOINT") for s in statements) <= 1
    # … and the money moved once: the hold back, the order charged, the driver told.
    total = payload["TotalMoney"]
    kinds = list(WalletEntry.objects.filter(driver_id=session.driver_id).values_list("kind", "amount").order_by("id"))
    assert kinds[-2:] == [(EntryKind.RELEASE, Decimal("100.00")), (EntryKind.CHARGE, -total)]
    assert balance_of(session.driver_id) == Decimal("300.00") + history - total
    entries = WalletEntry.objects.filter(driver_id=session.driver_id).order_by("id")
    running = Decimal(0)
    for entry in entries:  # every running balance is the sum of everything before it
        running += entry.amount
        assert entry.balance_after == running
    assert Notification.objects.filter(driver_id=session.driver_id, title="充电扣款").count() == 1

    again, repeat = _push(caller, payload)  # a repeat: answered as before, no money moves
    assert again.data["ConfirmResult"] == 0 and len(repeat) < len(statements)
    assert WalletEntry.objects.filter(driver_id=session.driver_id, kind=EntryKind.CHARGE).count() == 1
