"""Reads on a streaming replica (DATABASE_REPLICA_URL): which requests read there, the router, and the replica's lag.

A person's GET or HEAD of the admin or the REST API is marked read-only (`ReplicaMiddleware`); while it runs, the
router sends its reads to the `replica` alias — except reads inside a transaction (a service reads what it is about to
write: that stays on the primary), reads after the request wrote anything (it then reads its own writes), and the rows
a request reads and writes as it goes (logins, sessions, permissions, API tokens, the admin's log). Every write goes
to the primary. Nothing else is marked: the protocol (served before any other middleware), Celery tasks, management
commands, the public pages and the driver API read and write on the primary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"  # the alias settings.py adds when DATABASE_REPLICA_URL is set

# Rows a request reads and writes as it goes: a login just made, its session, its permissions, an API token, the
# admin's log entry. On a replica a person who just logged in would not be logged in yet.
PRIMARY_APPS = frozenset({"auth", "sessions", "contenttypes", "authtoken", "admin"})
READ_PATHS = ("/admin/", "/api/")
# Under READ_PATHS but on the primary: the account pages (login, password) and the driver API (a driver reads what
# they just did — the session they started, the balance they topped up — and a policy question asks the operator
# and keeps its answer).
PRIMARY_PATHS = ("/admin/login/", "/admin/logout/", "/admin/password_change/", "/api/driver/")
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(slots=True)
class _Reads:
    wrote: bool = False  # the request wrote something: its later reads read its own writes, on the primary


_reads: ContextVar[_Reads | None] = ContextVar("hlht_replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def reads_on_replica(request: HttpRequest) -> bool:
    """Whether this request is a person's read that the replica may serve (by method and path alone)."""
    path = request.path_info
    return request.method in SAFE_METHODS and path.startswith(READ_PATHS) and not path.startswith(PRIMARY_PATHS)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside: reads may be served by the replica (as in a read-only request)."""
    token = _reads.set(_Reads())
    try:
        yield
    finally:
        _reads.reset(token)


class ReplicaMiddleware:
    """Marks a person's GET/HEAD of the admin and the API as read-only while its view runs (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not reads_on_replica(request):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)


class ReplicaRouter:
    """Installed only with a replica (settings.DATABASE_ROUTERS): the rules of the module's docstring."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        reads = _reads.get()
        if reads is None or reads.wrote or model._meta.app_label in PRIMARY_APPS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:  # read-then-write: a transaction reads what it writes
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: an object read on either relates to any other

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by streaming it


@dataclass(frozen=True, slots=True)
class Lag:
    """How far the replica trails the primary: 0 when it has replayed everything the primary has written."""

    seconds: float
    paused: bool  # replay paused (pg_wal_replay_pause): the replica stays behind until resumed


def replica_lag() -> Lag | None:
    """The replica's lag (None without a replica): the primary's WAL position, then whether the replica has
    replayed up to it; if not, the age of the last transaction it replayed (pg_last_xact_replay_timestamp)."""
    if not replica_configured():
        return None
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (position,) = cursor.fetchone()
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn, "
            "EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, "
            "pg_is_wal_replay_paused()",
            [position],
        )
        caught_up, age, paused = cursor.fetchone()
    return Lag(0.0 if caught_up or age is None else max(0.0, age), bool(paused))
