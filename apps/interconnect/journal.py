"""The message journal: one row per exchange, personal data masked, with retention."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.core.conf import conf
from apps.core.partitions import partitions_drop_before
from apps.core.privacy import mask_name, mask_text
from apps.core.rows import JSONText, insert_statement, plain_cursor
from apps.protocol.names import Interface
from apps.protocol.text import STORABLE_DEPTH, safe_text, storable

from .models import Exchange

logger = logging.getLogger(__name__)

NAME_FIELDS = frozenset({"UserName", "CustomerName"})


def _masked(key: str | None, value: str) -> str:
    # Secrets, of any type under any spelling, were already masked by storable (apps.protocol.text.is_secret_key).
    if key in NAME_FIELDS:
        return mask_name(value)
    return mask_text(value)


# A journal row keeps the first items of a long list: a reconciliation's million orders belong to its run, and a
# journal row of 80 MB would cost more to write than the message it records.
JOURNAL_LIST_ITEMS = 1000


def mask(value: Any) -> Any:
    """A copy of a decrypted payload fit for the journal: secrets hidden, phones, plates and names masked, long
    lists cut to JOURNAL_LIST_ITEMS, and the rest made storable (apps.protocol.text.storable)."""
    return storable(value, text=_masked, max_items=JOURNAL_LIST_ITEMS)


# What `mask` would look for, searched in a payload's JSON text at once instead of walking it (each a superset):
# a secret's key or a name's key, in the text folded as apps.protocol.text.is_secret_key folds a key (case, spaces,
# `_` and `-`), and eleven digits that could be a mobile number. A plate starts with a province's character: not
# ASCII, so never in a text that takes this way.
_FOLDED_MARKS = ("secret", "accesstoken", *(name.casefold() for name in NAME_FIELDS))
_DIGITS = re.compile(r"1[3-9]\d{9}")


def _plain_json(value: Any) -> JSONText | None:
    """`mask(value)` as JSON text when masking would change nothing, else None (then `mask` walks it).

    A status push's payload and answer are a few ASCII keys, identifiers and numbers: serialised once, the text is
    searched for everything `mask` rewrites — a secret's key, a name's key, a mobile number or plate, a character
    that is not printable ASCII (escaped by JSON, so any backslash), nesting near STORABLE_DEPTH, a list longer
    than JOURNAL_LIST_ITEMS, a value JSON cannot hold (NaN, a key that is not text) — and any hit, even a
    false one (a number that looks like a phone), takes the walk. What is stored is the same JSON either way; the
    walk and the second serialisation by the column's adapter cost a tenth of a push's CPU."""
    try:
        # default=str: a Decimal (an amount) becomes its text, as storable makes it.
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return None
    # Below twice JOURNAL_LIST_ITEMS characters no list can hold more than that many items ("[0,0,…]" takes two
    # characters an item); the limit is read at each call, as `mask` reads it.
    if len(text) >= 2 * JOURNAL_LIST_ITEMS or not text.isascii() or not text.isprintable() or "\\" in text:
        return None
    folded = text.lower().replace("_", "").replace("-", "").replace(" ", "")
    if (
        any(mark in folded for mark in _FOLDED_MARKS)
        or text.count("{") + text.count("[") >= STORABLE_DEPTH
        or _DIGITS.search(text) is not None
    ):
        return None
    return JSONText(text)


# Payloads that are lists of records the portal stores elsewhere (stations, statuses, statistics, orders under
# reconciliation): a full copy per page costs about 120 MB per crawl of 20,000 stations and proves nothing the
# directory and the rejected records do not. Kept compact unless conf().journal.full_payload names the interface.
BULK_INTERFACES = frozenset(
    {
        Interface.QUERY_STATIONS_INFO,
        Interface.QUERY_STATION_STATUS,
        Interface.QUERY_STATION_STATS,
        Interface.CHECK_CHARGE_ORDERS,
    }
)


def compact(value: Any) -> Any:
    """A bulk payload as the journal keeps it: top-level scalars as they are, each list as its length and the
    SHA-256 of its canonical JSON (so two answers can be told equal or not), and the payload's size."""
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {"_compact": True}
    size = 2 + max(len(value) - 1, 0)  # the braces and commas of the whole canonical text
    for key, item in value.items():
        canonical = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        encoded = canonical.encode("utf-8", "surrogatepass")
        # Each value is dumped once: the whole payload's size is the sum of its members' ("key":value).
        size += len(json.dumps(key, ensure_ascii=False).encode("utf-8", "surrogatepass")) + 1 + len(encoded)
        if isinstance(item, list | dict):
            kept[key] = {"_items": len(item), "_sha256": hashlib.sha256(encoded).hexdigest()}
        else:
            kept[key] = item
    kept["_bytes"] = size
    return kept


# Text columns and their lengths: whatever bytes a peer sent, the row fits and PostgreSQL takes it.
_TEXT_LIMITS = {"claimed_operator_id": 64, "interface": 64, "timestamp": 20, "seq": 8, "msg": 500, "error": None}


# Every column but the key, with its default: a row is a dict, not a model instance (building one per message cost
# more than its insert).
_DEFAULTS = {f.attname: f.get_default() for f in Exchange._meta.concrete_fields if not f.primary_key}


def _write(fields: dict[str, Any], *, as_text: bool = False) -> tuple[int, dict[str, Any]]:
    # as_text: the payloads may be written as JSON text (`_plain_json`); the row answered then holds that text.
    bulk = fields.get("interface") in BULK_INTERFACES and fields["interface"] not in conf().journal.full_payload
    for name in ("request", "response"):
        value = fields.get(name)
        if value is not None:
            plain = _plain_json(value) if as_text and not bulk else None
            fields[name] = plain if plain is not None else mask(compact(value) if bulk else value)
    for name, limit in _TEXT_LIMITS.items():
        if fields.get(name):
            fields[name] = safe_text(str(fields[name]), limit)
    if "operator" in fields:
        operator = fields.pop("operator")
        fields["operator_id"] = operator.pk if operator is not None else None
    row = {**_DEFAULTS, **fields, "created": timezone.now()}
    sql, params = insert_statement(Exchange, [row], returning=True)
    with plain_cursor() as cursor:  # every message writes one: the driver's cursor
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    return pk, row


def journal_insert(**fields: Any) -> int:
    """Write one journal row and return its id; payloads are masked and text made storable here, so no caller can
    forget to. One prepared INSERT (apps.core.rows): every message the portal answers writes a row."""
    return _write(fields, as_text=True)[0]


def journal_record(**fields: Any) -> Exchange:
    """`journal_insert`, answering the row as a model instance (for a caller that links records to it)."""
    pk, row = _write(fields)
    exchange = Exchange(pk=pk, **row)
    exchange._state.adding, exchange._state.db = False, "default"
    return exchange


def journal_purge(*, days: int | None = None) -> int:
    """Delete journal rows older than their interface's retention (conf().journal.retention_days_per_interface, else the
    default HLHT_JOURNAL_RETENTION_DAYS); `days` overrides both. On PostgreSQL whole months that every retention
    has passed are dropped as partitions first (a DROP, not a DELETE of millions of rows); the rest is deleted.
    Returns the rows deleted one by one."""
    now = timezone.now()
    default = days if days is not None else conf().journal.retention_days
    special = {} if days is not None else conf().journal.retention_days_per_interface
    longest = max([default, *special.values()])
    dropped = partitions_drop_before(Exchange, now - timedelta(days=longest))
    deleted, _ = (
        Exchange.objects.filter(created__lt=now - timedelta(days=default)).exclude(interface__in=list(special)).delete()
    )
    for interface, kept in special.items():
        count, _ = Exchange.objects.filter(interface=interface, created__lt=now - timedelta(days=kept)).delete()
        deleted += count
    if dropped:
        logger.info("journal partitions dropped: %s", ", ".join(dropped))
    return deleted
