"""Serial numbers (StartChargeSeq, EquipAuthSeq, …) unique across processes and machines: the per-second counter
is the database's, not a process's, so two gunicorn workers starting two sessions in one second never issue the
same StartChargeSeq."""

from __future__ import annotations

from django.db import connection

from apps.protocol.timestamps import MAX_PER_SECOND, format_serial, now

# PostgreSQL: a sequence, which is non-transactional (no lock held until the caller's transaction ends) and cycles
# through the four digits the serial has. Other databases (SQLite for `make run`): a one-row counter table, whose
# update SQLite serialises across processes. Both are made by apps/core/migrations/0002_serials.py.
SEQUENCE = "hlht_serial"


def _next_count() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
        else:
            cursor.execute(
                f"UPDATE {SEQUENCE} SET n = n %% %s + 1 WHERE id = 1 RETURNING n",  # noqa: S608 - a constant name
                [MAX_PER_SECOND],
            )
        return int(cursor.fetchone()[0])


def next_serial(operator_id: str) -> str:
    """A 27-character serial: the portal's OperatorID, the Beijing second, and a counter shared by every process.

    Two serials collide only if the counter wraps (9,999 issued city-wide) within one second."""
    return format_serial(operator_id, now(), _next_count())  # a bad OperatorID only skips a count: refused all the same
