"""Set-based row writes for the hot paths: one INSERT (or upsert) statement for many rows, SQL built once.

The ORM's `create()` and `bulk_create()` compile their SQL anew for every call, which on a status push costs more
than the round trip itself. These helpers take field names, adapt values with the fields' own `get_db_prep_save`
(so a JSONField or an aware datetime is stored exactly as the ORM would store it), and cache the statement text per
(table, columns, row count, conflict rule). `ON CONFLICT … DO NOTHING / DO UPDATE` is the same SQL on PostgreSQL
and SQLite (≥ 3.24), so both backends run the same code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal, overload

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

__all__ = [
    "CHUNK",
    "JSONText",
    "column_of",
    "concrete_field",
    "insert_many",
    "insert_rows",
    "insert_statement",
    "plain_cursor",
    "write_together",
]


def concrete_field(model: type[Model], name: str) -> Field[Any, Any]:
    """The field stored in a column, by name or attname (`get_field` also answers reverse relations: no column)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model._meta.label}.{name} is not stored in a column")
    return field


def column_of(model: type[Model], name: str) -> str:
    """The column of a field, by name or attname."""
    column = concrete_field(model, name).column
    if column is None:  # only a field not attached to a model has none
        raise TypeError(f"{model._meta.label}.{name} has no column")
    return column


class JSONText(str):
    """A JSONField's value already serialised as JSON text: written as it is, not dumped again (the journal builds
    the text it checked for what it must mask, and would otherwise pay for a second serialisation)."""

    __slots__ = ()


@contextmanager
def plain_cursor() -> Iterator[Any]:
    """The driver's own cursor on PostgreSQL (psycopg2), for the statements every message runs: Django's cursor
    wrapper adds a check, a timer and a logger call per statement that cost more than a short statement's Python.
    Database errors still become Django's (OperationalError and the rest) and mark the connection, so a broken
    one is replaced at the end of the request as with any cursor. Statements on it are not in Django's query log.
    Elsewhere (SQLite, whose driver has other placeholders) Django's cursor."""
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` looks the wrapper up again on every attribute
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    if db.connection is None:
        db.ensure_connection()
    with db.wrap_database_errors, db.connection.cursor() as cursor:
        yield cursor


@lru_cache(maxsize=512)
def _statement(
    model: type[Model],
    names: tuple[str, ...],
    count: int,
    conflict: tuple[str, ...] | None,
    update: tuple[str, ...],
    returning: tuple[str, ...],
    vendor: str,
) -> tuple[str, tuple[Any, ...]]:
    """The statement's text and, per column, how a value becomes a parameter (None: as it is)."""
    quote = connection.ops.quote_name
    fields = tuple(concrete_field(model, name) for name in names)
    columns = ", ".join(quote(column_of(model, name)) for name in names)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
    sql += _tail(model, conflict, update, returning)
    return sql, tuple(_adapter(f, vendor) for f in fields)


def _tail(
    model: type[Model], conflict: tuple[str, ...] | None, update: tuple[str, ...], returning: tuple[str, ...]
) -> str:
    """An INSERT's `ON CONFLICT …` and `RETURNING …` clauses, whichever form its rows travel in."""
    quote = connection.ops.quote_name

    def columns(names: tuple[str, ...]) -> list[str]:
        return [quote(column_of(model, n)) for n in names]

    sql = ""
    if conflict is not None:
        target = "(" + ", ".join(columns(conflict)) + ")" if conflict else ""
        if update:
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns(update))
            sql += f" ON CONFLICT {target} DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT {target} DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(columns(returning))
    return sql


def _adapter(field: Field, vendor: str) -> Any:
    """How a Python value of `field` becomes a parameter; None: as it is.

    psycopg2 adapts Python's own types (aware datetimes, Decimals, str, int, None) exactly as the ORM's PostgreSQL
    operations pass them; JSON and IP addresses go through their fields. Elsewhere (SQLite) every value goes
    through its field, which is what the ORM does. Chosen once per statement: on the hot path the generic
    adaptation chain of every value cost more than building the statement.
    """
    # JSON needs its adapter (but for text already serialised, JSONText: a JSON column takes its text on PostgreSQL
    # and SQLite alike); an empty IP address is NULL to the ORM (gunicorn on a unix socket sends REMOTE_ADDR "").
    kind = field.get_internal_type()
    if kind == "JSONField":

        def adapt(value: Any) -> Any:
            return str.__str__(value) if type(value) is JSONText else field.get_db_prep_save(value, connection)

        return adapt
    if vendor == "postgresql" and kind != "GenericIPAddressField":
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _returned(model: type[Model], returning: bool | Sequence[str]) -> tuple[str, ...]:
    if isinstance(returning, bool):
        return (model._meta.pk.name,) if returning else ()
    return tuple(returning)


def insert_statement(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: bool | Sequence[str] = False,
) -> tuple[str, list[Any]]:
    """The SQL and parameters of `insert_rows` (`rows` not empty), to run alone or with others (`write_together`)."""
    names = tuple(rows[0])
    sql, adapters = _statement(
        model,
        names,
        len(rows),
        None if conflict is None else tuple(conflict),
        tuple(update),
        _returned(model, returning),
        connection.vendor,
    )
    pairs = tuple(zip(names, adapters, strict=True))
    params = [adapt(row[name]) if adapt else row[name] for row in rows for name, adapt in pairs]
    return sql, params


# What comes back depends on `returning` (see the docstring): the overloads say so to the type checker.
@overload
def insert_rows(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: Literal[False] = False,
) -> int: ...


@overload
def insert_rows(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: Literal[True] | Sequence[str],
) -> list[Any]: ...


def insert_rows(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: bool | Sequence[str] = False,
) -> list[Any] | int:
    """Insert `rows` (dicts of field name or attname → value, all with the same keys) in one statement.

    `conflict`: the unique fields of `ON CONFLICT` ([] for any constraint); with `update`, the fields a conflicting
    row takes from the new one (an upsert), else the new row is skipped. Returns the primary keys when `returning`
    is True, tuples of the named fields when it names them (PostgreSQL and SQLite ≥ 3.35 both answer RETURNING;
    SQLite in no stated order, so a caller that must pair rows asks for a key with the pk), else how many rows
    were written.
    """
    if not rows:
        return [] if returning else 0
    sql, params = insert_statement(model, rows, conflict=conflict, update=update, returning=returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning is True:
            return [r[0] for r in cursor.fetchall()]
        if returning:
            return [tuple(r) for r in cursor.fetchall()]
        return cursor.rowcount


def write_together(statements: Sequence[tuple[str, list[Any]]]) -> None:
    """Run data-modifying statements in one round trip on PostgreSQL (all but the last as CTEs), one by one
    elsewhere. They must not depend on each other's rows: PostgreSQL runs CTEs on one snapshot."""
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            ctes = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(statements[:-1]))
            cursor.execute(f"WITH {ctes} {statements[-1][0]}", [p for _, params in statements for p in params])
            return
        for sql, params in statements:
            cursor.execute(sql, params)


# Rows per statement where rows travel as parameters: 500 rows of 16 columns stays far below PostgreSQL's 65,535
# and SQLite's 32,766 parameters.
CHUNK = 500


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: numeric's input reads the text, no float in between
    if isinstance(value, dt.date):  # and so datetime
        return value.isoformat()  # an aware datetime keeps its offset; timestamptz's input reads it
    raise TypeError(f"{type(value).__name__} is not a column value")


@lru_cache(maxsize=64)
def _recordset_statement(
    model: type[Model],
    names: tuple[str, ...],
    conflict: tuple[str, ...] | None,
    update: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(model, name)) for name in names)
    types = ", ".join(
        f"{quote(column_of(model, name))} {concrete_field(model, name).db_type(connection)}" for name in names
    )
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model, never from input
        f"SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS r({types})"
    )
    sql += _tail(model, conflict, update, returning)
    return sql


@overload
def insert_many(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
) -> int: ...


@overload
def insert_many(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: Sequence[str],
) -> list[tuple[Any, ...]]: ...


def insert_many(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]] | int:
    """`insert_rows` for hundreds or thousands of rows (a crawl page's connectors).

    On PostgreSQL the rows travel as one JSON document unpacked by `jsonb_to_recordset`: one parameter and one
    short statement whatever the count, so neither the client's adaptation of every value nor the server's parse
    and plan of a VALUES list grows with it (a 500-row VALUES upsert cost 38 ms against 14 ms to execute).
    Values must be what JSON can carry or a Decimal, date or datetime (sent as exact text). Elsewhere (SQLite),
    `insert_rows` in chunks. Returns tuples of the `returning` fields, else how many rows were written.
    """
    if not rows:
        return [] if returning else 0
    if connection.vendor != "postgresql":
        out: list[tuple[Any, ...]] = []
        count = 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if returning:
                out += insert_rows(model, chunk, conflict=conflict, update=update, returning=tuple(returning))
            else:
                count += insert_rows(model, chunk, conflict=conflict, update=update)
        return out if returning else count
    names = tuple(rows[0])
    sql = _recordset_statement(
        model, names, None if conflict is None else tuple(conflict), tuple(update), tuple(returning)
    )
    columns = [column_of(model, name) for name in names]
    document = json.dumps(
        [{column: row[name] for column, name in zip(columns, names, strict=True)} for row in rows],
        default=_json_value,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        return [tuple(r) for r in cursor.fetchall()] if returning else cursor.rowcount
