"""Monthly range partitions for the biggest tables on PostgreSQL (the journal, the status history).

A year of Beijing's status changes is about a billion rows. Partitioned by month, a query with a time bound reads
only its months, an index stays the size of a month, and retention is `DETACH` + `DROP` of whole months instead of a
DELETE of hundreds of millions of rows. Partitions are created ahead by a scheduled task (`partitions_ensure`), and a
DEFAULT partition catches whatever falls outside them, so no insert ever fails for want of a partition. SQLite (the
embedded default) keeps plain tables: every function here does nothing there.

Bounds are UTC month starts. The primary key of a partitioned table must contain its partition column, so it is
(id, column); ids still come from one identity sequence and stay unique, and no foreign key points into these
tables (the models that link to a journal row do so without a database constraint).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection, models, transaction

MONTHS_BACK = 13  # at most this many past months get their own partition when a table is first partitioned

__all__ = ["is_partitioned", "partition_table", "partitions_drop_before", "partitions_ensure", "partitions_of"]


def _month(value: date) -> date:
    return date(value.year, value.month, 1)


def _next_month(value: date) -> date:
    return date(value.year + value.month // 12, value.month % 12 + 1, 1)


def _name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def _bound(month: date) -> str:
    return f"{month:%Y-%m-%d} 00:00:00+00"


def is_partitioned(model: type[models.Model]) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [model._meta.db_table])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def partitions_of(model: type[models.Model]) -> list[tuple[str, datetime | None, datetime | None]]:
    """(partition, lower bound, upper bound) of each partition, oldest first; the DEFAULT one has no bounds."""
    if not is_partitioned(model):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [model._meta.db_table],
        )
        rows = cursor.fetchall()
    found: list[tuple[str, datetime | None, datetime | None]] = []
    for name, bound in rows:
        if bound == "DEFAULT":
            found.append((name, None, None))
            continue
        # FOR VALUES FROM ('2026-12-01 08:00:00+08') TO ('2027-01-01 08:00:00+08'): as the server's time zone shows it
        low, high = (part.split("'")[1] for part in bound.split(" TO "))
        found.append((name, datetime.fromisoformat(low), datetime.fromisoformat(high)))
    return sorted(found, key=lambda p: (p[1] is None, p[1] or datetime.min.replace(tzinfo=UTC)))


def partitions_ensure(model: type[models.Model], *, months_ahead: int = 3, today: date | None = None) -> list[str]:
    """Create the monthly partitions from this month to `months_ahead` months on; return the ones created."""
    if not is_partitioned(model):
        return []
    table = model._meta.db_table
    existing = {name for name, _, _ in partitions_of(model)}
    month, created = _month(today or datetime.now(UTC).date()), []
    for _ in range(months_ahead + 1):
        name = _name(table, month)
        if name not in existing:
            _create_partition(table, month)
            created.append(name)
        month = _next_month(month)
    return created


def _create_partition(table: str, month: date) -> None:
    quote = connection.ops.quote_name
    name, upper = _name(table, month), _next_month(month)
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows of that month that reached the DEFAULT partition first are moved into the new one: PostgreSQL refuses
        # to attach a partition whose rows the DEFAULT partition still holds. The DEFAULT partition is locked first
        # (ATTACH takes the same lock), so no row can arrive there between the move and the attach.
        default = quote(f"{table}_default")
        cursor.execute(f"LOCK TABLE {default} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {quote(name)} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        column = _partition_column(table)
        where = f"{quote(column)} >= %s AND {quote(column)} < %s"
        params = [_bound(month), _bound(upper)]
        moved = f"WITH moved AS (DELETE FROM {default} WHERE {where} RETURNING *) "  # noqa: S608
        cursor.execute(moved + f"INSERT INTO {quote(name)} SELECT * FROM moved", params)  # noqa: S608
        cursor.execute(
            f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} "
            f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(upper)}')"
        )


def _partition_column(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0] WHERE c.relname = %s",
            [table],
        )
        return cursor.fetchone()[0]


def partitions_drop_before(model: type[models.Model], cutoff: datetime) -> list[str]:
    """Detach and drop every monthly partition that ends at or before `cutoff`; return the ones dropped."""
    dropped = []
    quote = connection.ops.quote_name
    for name, _, upper in partitions_of(model):
        if upper is not None and upper <= cutoff:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {quote(model._meta.db_table)} DETACH PARTITION {quote(name)}")
                cursor.execute(f"DROP TABLE {quote(name)}")
            dropped.append(name)
    return dropped


def partition_table(schema_editor, model: type[models.Model], column: str, *, months_ahead: int = 3) -> None:
    """Migration step: turn `model`'s plain table into one partitioned by month on `column`, rows kept.

    The table is rebuilt: renamed aside, recreated `PARTITION BY RANGE` with the same columns, defaults, identity and
    CHECK constraints, given a partition per month its rows span plus `months_ahead` and a DEFAULT one, filled, and
    then given back the model's indexes and foreign keys (by Django's own DDL, so their names stay Django's).
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = model._meta.db_table
    old = f"{table}_unpartitioned"
    pk = model._meta.pk.column
    execute = schema_editor.execute
    execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(old)}")
    execute(
        f"CREATE TABLE {quote(table)} (LIKE {quote(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY) "
        f"PARTITION BY RANGE ({quote(column)})"
    )
    execute(f"CREATE TABLE {quote(table + '_default')} PARTITION OF {quote(table)} DEFAULT")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT min({quote(column)}), max({quote(pk)}) FROM {quote(old)}")  # noqa: S608
        first, top = cursor.fetchone()
        # Where the old identity had got to: ids of deleted rows are never handed out again (links to journal rows
        # carry no database constraint, so a reused id would point at the wrong row).
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [old, pk])
        (sequence,) = cursor.fetchone()
        if sequence:
            cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608
            top = max(top or 0, cursor.fetchone()[0])
    # Months from the first row's, but at most MONTHS_BACK: one stray old timestamp must not make hundreds of
    # partitions (older rows stay in DEFAULT, where retention deletes them).
    now = _month(datetime.now(UTC).date())
    oldest = now
    for _ in range(MONTHS_BACK):
        oldest = _month(oldest - timedelta(days=1))
    month = max(_month(first.astimezone(UTC).date()) if first else now, oldest)
    last = now
    for _ in range(months_ahead):
        last = _next_month(last)
    while month <= last:
        execute(
            f"CREATE TABLE {quote(_name(table, month))} PARTITION OF {quote(table)} "
            f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(_next_month(month))}')"
        )
        month = _next_month(month)
    execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(old)}")  # noqa: S608
    if top is not None:
        execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{pk}'), {int(top)})")
    execute(f"DROP TABLE {quote(old)}")
    execute(f"ALTER TABLE {quote(table)} ADD PRIMARY KEY ({quote(pk)}, {quote(column)})")
    for statement in schema_editor._model_indexes_sql(model):
        execute(statement)
    for field in model._meta.local_fields:
        # db_constraint is set by ForeignKey.__init__ but not declared in django-stubs.
        if field.remote_field and field.db_constraint:  # type: ignore[attr-defined]
            execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))
    execute(f"ANALYZE {quote(table)}")
