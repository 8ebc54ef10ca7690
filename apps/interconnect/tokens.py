"""Access tokens the portal issues through query_token (T/CEC 102.4 Appendix A)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.core.rows import column_of, insert_rows, plain_cursor
from apps.operators.choices import CONNECTED_STATUSES
from apps.operators.models import Operator

from .models import AccessToken, SeenEnvelope


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenRateExceeded(Exception):
    """The operator asked for more tokens in the last minute than HLHT_TOKEN_RATE allows."""


@transaction.atomic
def token_issue(*, operator: Operator) -> tuple[str, int]:
    """A new opaque token and its lifetime in seconds.

    An operator holds at most HLHT_MAX_LIVE_TOKENS live tokens: the oldest beyond it are retired (expired now, kept
    until housekeeping purges them, so they still count against the rate). At most HLHT_TOKEN_RATE are issued per
    minute, else TokenRateExceeded. The operator's row is locked, so concurrent requests count one after another.
    """
    Operator.objects.select_for_update().filter(pk=operator.pk).values_list("pk", flat=True).first()
    now = timezone.now()
    issued = AccessToken.objects.filter(operator=operator, created__gt=now - timedelta(minutes=1)).count()
    if issued >= conf().protocol.tokens_per_minute:
        raise TokenRateExceeded(operator.pk)
    lifetime = conf().protocol.token_lifetime_seconds
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        operator=operator, token_hash=_digest(token), expires_at=now + timedelta(seconds=lifetime)
    )
    live = AccessToken.objects.filter(operator=operator, expires_at__gt=now).order_by("-created", "-pk")
    retired = list(live.values_list("pk", flat=True)[conf().protocol.max_live_tokens :])
    if retired:
        AccessToken.objects.filter(pk__in=retired).update(expires_at=now)
    return token, lifetime


@lru_cache(maxsize=4)
def _valid_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    token, operator = quote(AccessToken._meta.db_table), quote(Operator._meta.db_table)
    statuses = ", ".join(["%s"] * len(CONNECTED_STATUSES))
    pk = quote(column_of(Operator, Operator._meta.pk.name))
    return (
        f"SELECT 1 AS one FROM {token} t INNER JOIN {operator} o ON o.{pk} = t.operator_id "  # noqa: S608
        f"WHERE t.token_hash = %s AND t.operator_id = %s AND t.expires_at > %s AND o.status IN ({statuses})"
    )


def token_is_valid(*, operator: Operator, token: str) -> bool:
    """True for an unexpired token of this operator while the operator may connect.

    The operator's status is read in the same query, not from the (possibly cached) object: suspension ends
    every token at once. One statement written once: this runs on every message, and the ORM's compilation of
    the same query cost more than the round trip.
    """
    expires = AccessToken._meta.get_field("expires_at").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_valid_sql(connection.vendor), [_digest(token), operator.pk, expires, *CONNECTED_STATUSES])
        return cursor.fetchone() is not None


def token_holder(token: str) -> Operator | None:
    """The operator an unexpired token was issued to, while it may connect; None for any other token.

    Asked before a request's body is read, when only its Authorization header is known (a body larger than
    HLHT_MAX_BODY_BYTES is read for a known caller only); the pipeline still checks the token against the envelope.
    """
    return (
        Operator.objects.filter(
            access_tokens__token_hash=_digest(token),
            access_tokens__expires_at__gt=timezone.now(),
            status__in=CONNECTED_STATUSES,
        )
        .only("pk", "kind", "dialect_bare_token")
        .first()
    )


_MARK_COLUMNS = ("operator_id", "timestamp", "seq", "sig", "received_at")


# Migration interconnect 0009: the token check and the mark in one PL/pgSQL call whose plans are kept per session.
_MARK_SQL = "SELECT hlht_token_mark(%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_CONNECTED = [str(status) for status in CONNECTED_STATUSES]


def token_check_and_mark(*, operator: Operator, token: str, mark: dict[str, Any]) -> tuple[bool, bool]:
    """(token valid, envelope first seen): `token_is_valid`, then, only for a valid token, the replay mark `mark`
    (SeenEnvelope's fields) inserted unless already there. One call of hlht_token_mark on PostgreSQL (planned
    once per connection, not per message); two statements elsewhere."""
    if connection.vendor != "postgresql":
        if not token_is_valid(operator=operator, token=token):
            return False, False
        return True, insert_rows(SeenEnvelope, [mark], conflict=[]) == 1
    params = [_digest(token), operator.pk, timezone.now(), _CONNECTED, *(mark[name] for name in _MARK_COLUMNS)]
    with plain_cursor() as cursor:  # every message runs it: the driver's cursor
        cursor.execute(_MARK_SQL, params)
        (verdict,) = cursor.fetchone()
    return verdict != "token", verdict == "first"


def tokens_revoke(*, operator: Operator) -> int:
    deleted, _ = AccessToken.objects.filter(operator=operator).delete()
    return deleted


def tokens_purge_expired() -> int:
    deleted, _ = AccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
