"""The portal as a protocol client: a PeerClient per operator, with tokens shared by every worker and a journal."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from apps.core.conf import conf
from apps.core.exceptions import HLHTError
from apps.core.secretbox import seal, unseal
from apps.operators.models import Operator
from apps.protocol import ExchangeRecord, PeerClient

from .choices import Direction, KeyDirection
from .dialects import operator_dialect
from .journal import journal_record
from .keys import current_keyset, keyset_open
from .models import Exchange, PeerToken


class NotConfigured(HLHTError):
    """The operator lacks what the portal needs to call it (an endpoint or its outbound key set)."""


class DatabaseTokenStore:
    """Tokens obtained from operators, in the database so every worker shares them; sealed at rest.

    `lock` serialises a refresh, so concurrent workers make one query_token, not many: a row lock on PostgreSQL; on
    SQLite (one machine) a file lock, because a write transaction there locks the whole database, and holding one
    across the peer's query_token would stop every other write for as long as a slow platform takes to answer.
    """

    def get(self, key: str) -> tuple[str, datetime] | None:
        row = PeerToken.objects.filter(key=key).only("token", "expires_at").first()
        if row is None or not row.token or row.expires_at is None:
            return None
        return unseal(row.token), row.expires_at

    def set(self, key: str, token: str, expires_at: datetime) -> None:
        PeerToken.objects.update_or_create(key=key, defaults={"token": seal(token), "expires_at": expires_at})

    def delete(self, key: str) -> None:
        PeerToken.objects.filter(key=key).update(token="", expires_at=None)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        PeerToken.objects.get_or_create(key=key)
        if connection.vendor == "sqlite":
            path = Path(settings.VAR_DIR) / "locks" / f"token-{hashlib.sha256(key.encode()).hexdigest()[:24]}.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        with transaction.atomic():
            PeerToken.objects.select_for_update().filter(key=key).first()
            yield


class OutboundJournal:
    """Journals every exchange of a client and keeps the last row, so a pull can tell which message it stored."""

    def __init__(self, operator: Operator) -> None:
        self.operator = operator
        self.last: Exchange | None = None

    def __call__(self, exchange: ExchangeRecord) -> None:
        self.last = journal_record(
            operator=self.operator,
            claimed_operator_id=conf().protocol.operator_id,
            interface=exchange.interface[:64],
            direction=Direction.OUT,
            timestamp=exchange.timestamp,
            seq=exchange.seq,
            ret=exchange.ret,
            msg=exchange.msg or "",
            http_status=exchange.http_status,
            latency_ms=exchange.latency_ms,
            request=exchange.request,
            response=exchange.response,
            error=exchange.error or "",
        )


def last_exchange(client: PeerClient) -> Exchange | None:
    """The journal row of the client's latest exchange (None for a client that does not journal)."""
    journal = client.on_exchange
    return journal.last if isinstance(journal, OutboundJournal) else None


def operator_client(operator: Operator) -> PeerClient:
    """A client for calling `operator`'s platform with the keys it issued; close it (or use `with`) when done."""
    if not operator.endpoint_url:
        raise NotConfigured(f"运营商 {operator.operator_id} 没有配置接口地址")
    row = current_keyset(operator.operator_id, KeyDirection.OUTBOUND)
    if row is None:
        raise NotConfigured(f"运营商 {operator.operator_id} 没有对方签发的密钥")
    return PeerClient(
        operator.endpoint_url,
        conf().protocol.operator_id,
        keyset_open(row),
        DatabaseTokenStore(),
        connect_timeout=conf().client.connect_timeout_seconds,
        read_timeout=conf().client.read_timeout_seconds,
        on_exchange=OutboundJournal(operator),
        dialect=operator_dialect(operator),
        refresh_margin=conf().client.token_refresh_margin_seconds,
        token_key=f"{operator.operator_id}:{operator.endpoint_url}",
        # Checked when each connection is made, not only when the endpoint was entered (DNS rebinding).
        public_only=not conf().client.allow_private_endpoints,
    )
