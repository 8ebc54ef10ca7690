"""The message journal: one row per exchange, personal data masked, with retention."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.protocol.text import safe_text, storable

from .models import Exchange

SECRET_FIELDS = frozenset({"OperatorSecret", "AccessToken", "DataSecret", "DataSecretIV", "SigSecret"})
NAME_FIELDS = frozenset({"UserName", "CustomerName"})
# Mainland mobile numbers, and plates: province character, letter, 5–6 characters (new-energy plates have 6).
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-Z])[·]?([A-Z0-9]{3,5})([A-Z0-9挂学警])"
)


def mask_text(value: str) -> str:
    value = _PHONE.sub(r"\1****\3", value)
    return _PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}{m.group(4)}", value)


def _masked(key: str | None, value: str) -> str:
    if key in SECRET_FIELDS:
        return "******"
    if key in NAME_FIELDS and value:
        return value[0] + "*" * (len(value) - 1)
    return mask_text(value)


def mask(value: Any) -> Any:
    """A copy of a decrypted payload fit for the journal: secrets hidden, phones, plates and names masked, and the
    rest made storable (apps.protocol.text.storable): any payload a peer sent can be kept."""
    return storable(value, text=_masked)


# Text columns and their lengths: whatever bytes a peer sent, the row fits and PostgreSQL takes it.
_TEXT_LIMITS = {"claimed_operator_id": 64, "interface": 64, "timestamp": 20, "seq": 8, "msg": 500, "error": None}


def journal_record(**fields: Any) -> Exchange:
    """Write one journal row; payloads are masked and text made storable here, so no caller can forget to."""
    for name in ("request", "response"):
        if fields.get(name) is not None:
            fields[name] = mask(fields[name])
    for name, limit in _TEXT_LIMITS.items():
        if fields.get(name):
            fields[name] = safe_text(str(fields[name]), limit)
    return Exchange.objects.create(**fields)


def journal_purge(*, days: int | None = None) -> int:
    """Delete journal rows older than the retention setting."""
    cutoff = timezone.now() - timedelta(days=days if days is not None else settings.HLHT_JOURNAL_RETENTION_DAYS)
    deleted, _ = Exchange.objects.filter(created__lt=cutoff).delete()
    return deleted
