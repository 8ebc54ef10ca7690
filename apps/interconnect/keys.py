"""Key sets: generate with `secrets`, seal at rest, rotate inbound sets with an overlap, destroy retired ones."""

from __future__ import annotations

import secrets
import string
import time
from datetime import timedelta
from functools import lru_cache

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.conf import conf
from apps.core.exceptions import ValidationFailed
from apps.core.secretbox import seal, unseal
from apps.operators.models import Operator
from apps.protocol import InvalidKeyError, KeySet

from .choices import KeyDirection
from .models import OperatorKeySet

WIRE_NAMES = ("OperatorSecret", "DataSecret", "DataSecretIV", "SigSecret")
_ALPHABET = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def keys_generate() -> dict[str, str]:
    """A fresh key set in wire names: DataSecret and IV are 16 characters (AES-128), the others 32."""
    return {
        "OperatorSecret": _random(32),
        "DataSecret": _random(16),
        "DataSecretIV": _random(16),
        "SigSecret": _random(32),
    }


def keys_validate(values: dict[str, str]) -> KeySet:
    """Check a key set given in wire names (from a file or a form); ValidationFailed names what is wrong."""
    if not isinstance(values, dict):
        raise ValidationFailed("密钥必须是包含 OperatorSecret、DataSecret、DataSecretIV、SigSecret 的对象")
    for name in WIRE_NAMES:
        value = values.get(name)
        if not isinstance(value, str) or not value or not value.isascii() or not value.isprintable():
            raise ValidationFailed("必须是非空的可打印 ASCII 字符串", field=name)
        if len(value) > 64:
            raise ValidationFailed("长度不能超过64", field=name)
    try:
        return KeySet(
            operator_secret=values["OperatorSecret"],
            data_secret=values["DataSecret"],
            data_secret_iv=values["DataSecretIV"],
            sig_secret=values["SigSecret"],
        )
    except InvalidKeyError as exc:
        # The codec names the key in English (its callers log it); people read the rule in Chinese.
        raise ValidationFailed("必须正好16字节（UTF-8）", field=exc.key) from exc


@transaction.atomic
def keyset_install(
    *, operator: Operator, direction: str, values: dict[str, str] | None = None, overlap: timedelta | None = None
) -> dict[str, str]:
    """Make `values` (or a generated set) the operator's current set for `direction`; return it in wire names.

    The set it replaces keeps working for `overlap` (inbound default: HLHT_KEY_OVERLAP) so the
    operator can switch without downtime; an outbound set is replaced at once, since the operator already
    uses the new one.
    """
    values = dict(values) if values is not None else keys_generate()
    keys_validate(values)
    now = timezone.now()
    if overlap is None:
        overlap = conf().protocol.key_overlap if direction == KeyDirection.INBOUND else timedelta(0)
    current = OperatorKeySet.objects.select_for_update().filter(
        operator=operator, direction=direction, retires_at__isnull=True
    )
    for old in current:
        old.retires_at = now + overlap
        old.save(update_fields=["retires_at", "updated"])
    OperatorKeySet.objects.create(
        operator=operator,
        direction=direction,
        label=secrets.token_hex(4),
        operator_secret=seal(values["OperatorSecret"]),
        data_secret=seal(values["DataSecret"]),
        data_secret_iv=seal(values["DataSecretIV"]),
        sig_secret=seal(values["SigSecret"]),
    )
    return values


def keyset_rotate(*, operator: Operator, overlap: timedelta | None = None) -> dict[str, str]:
    """Issue a new inbound set; the old one keeps working for the overlap window."""
    return keyset_install(operator=operator, direction=KeyDirection.INBOUND, overlap=overlap)


def keysets_destroy_retired() -> int:
    """Delete key sets whose overlap has ended (the standard asks for replaced keys to be destroyed)."""
    deleted, _ = OperatorKeySet.objects.filter(retires_at__lte=timezone.now()).delete()
    return deleted


@lru_cache(maxsize=4096)
def _open(operator_secret: str, data_secret: str, data_secret_iv: str, sig_secret: str) -> KeySet:
    # Sealed strings are unique per set (random nonces), so caching on them is safe and saves four AES-GCM
    # decryptions per inbound message.
    return KeySet(
        operator_secret=unseal(operator_secret),
        data_secret=unseal(data_secret),
        data_secret_iv=unseal(data_secret_iv),
        sig_secret=unseal(sig_secret),
    )


def keyset_open(row: OperatorKeySet) -> KeySet:
    return _open(row.operator_secret, row.data_secret, row.data_secret_iv, row.sig_secret)


def keyset_as_wire(row: OperatorKeySet) -> dict[str, str]:
    keys = keyset_open(row)
    return dict(
        zip(WIRE_NAMES, (keys.operator_secret, keys.data_secret, keys.data_secret_iv, keys.sig_secret), strict=True)
    )


# Caller key sets per process, for HLHT_CALLER_CACHE_SECONDS: they change rarely and are read on every message.
# Staleness is bounded where it matters: a Sig that fails against cached sets is retried against fresh ones (so
# a new set works at once), expiry is checked at use time, and token checks read the operator's live status.
_caller_cache: dict[tuple[str, str], tuple[float, list[OperatorKeySet]]] = {}


def usable_keysets(operator_id: str, direction: str, *, fresh: bool = False) -> list[OperatorKeySet]:
    """The current set first, then any retired set still inside its overlap window, with the operator loaded."""
    ttl = conf().protocol.caller_cache_seconds
    key = (operator_id, direction)
    hit = None if fresh or ttl <= 0 else _caller_cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        rows = hit[1]
    else:
        rows = list(
            OperatorKeySet.objects.filter(operator_id=operator_id, direction=direction)
            .filter(Q(retires_at__isnull=True) | Q(retires_at__gt=timezone.now()))
            .select_related("operator")
        )
        if ttl > 0 and rows:  # unknown callers are not remembered: a new operator works as soon as it exists
            _caller_cache[key] = (time.monotonic() + ttl, rows)
        else:
            _caller_cache.pop(key, None)
    now = timezone.now()
    usable = [r for r in rows if r.retires_at is None or r.retires_at > now]
    return sorted(usable, key=lambda r: (r.retires_at is not None, -(r.retires_at.timestamp() if r.retires_at else 0)))


def caller_cache_clear() -> None:
    _caller_cache.clear()


def current_keyset(operator_id: str, direction: str) -> OperatorKeySet | None:
    return OperatorKeySet.objects.filter(operator_id=operator_id, direction=direction, retires_at__isnull=True).first()
