"""What text a peer may send, and how any text it sent is made safe to sign, log and store: one definition of both."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "FORBIDDEN",
    "SECRET_MARK",
    "STORABLE_DEPTH",
    "first_forbidden",
    "is_secret_key",
    "redact_secrets",
    "safe_text",
    "storable",
]

# Characters no text field of the spec can hold: C0 controls (NUL, CR, LF, tab…), DEL, C1 controls and lone
# surrogates. They cannot be stored (PostgreSQL refuses NUL in text and jsonb, and lone surrogates in jsonb), shown,
# or signed (a surrogate has no UTF-8 form).
FORBIDDEN = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff]")


def first_forbidden(value: str) -> re.Match[str] | None:
    """The first forbidden character of `value`, or None; isprintable() screens the valid case, almost every string."""
    if value.isprintable():
        return None
    return FORBIDDEN.search(value)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: str, limit: int | None = None) -> str:
    """`value` with every forbidden character written as a visible escape (`\\x00`, `\\ud800`), at most `limit`
    characters: whatever a peer sent can then be signed, logged and stored."""
    if limit is not None:
        value = value[:limit]  # escaping never shortens, so cutting first bounds the work
    if value.isprintable():
        return value
    text = FORBIDDEN.sub(_escape, value)
    return text[:limit] if limit is not None else text


# -- secrets ----------------------------------------------------------------------------------------------------------
# A credential is never stored, whoever spelt its key how: peers send `operatorSecret`, `operator_secret`, a secret
# wrapped in a list, a number. A key is secret when, folded to lower case without `_`, `-` or spaces, it contains
# "secret" (OperatorSecret, DataSecret, DataSecretIV, SigSecret…) or is "accesstoken"; its value, whatever its type,
# is replaced by SECRET_MARK in every copy that is kept (storable) or journalled (redact_secrets).
SECRET_MARK = "******"  # noqa: S105 - the mask shown instead of a secret, not a credential
_KEY_NOISE = re.compile(r"[\s_\-]+")


def is_secret_key(key: object) -> bool:
    """Whether a payload key names a credential (see above); None and non-text keys are not."""
    if not isinstance(key, str):
        return False
    folded = _KEY_NOISE.sub("", key).casefold()
    return "secret" in folded or folded == "accesstoken"


def _masked_secret(key: object, value: Any) -> bool:
    # None carries nothing to hide, and shows the peer sent no value.
    return value is not None and is_secret_key(key)


def redact_secrets(value: Any) -> Any:
    """A copy of `value` with every secret-keyed value, at any depth, replaced by SECRET_MARK; the rest as it was."""
    if isinstance(value, dict):
        return {k: SECRET_MARK if _masked_secret(k, v) else redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_secrets(v) for v in value]
    return value


# Deeper structures are cut off in what is stored: a record is evidence, and nothing of the spec nests this deep.
STORABLE_DEPTH = 40
_TOO_DEEP = "…（嵌套过深，已截断）"


def storable(
    value: Any,
    *,
    text: Callable[[str | None, str], str] | None = None,
    key: str | None = None,
    max_items: int | None = None,
) -> Any:
    """A JSON-storable copy of anything a peer sent: every secret masked (is_secret_key), every string (keys too) made
    safe, numbers that JSON cannot hold exactly (Decimal) as text, and nesting cut at STORABLE_DEPTH. `text(key,
    value)` may rewrite each string after it was made safe (the journal masks personal data with it); `max_items`
    keeps the first items of a longer list and says how many were left out (a reconciliation lists a million orders)."""
    return _storable(value, key, text, 0, max_items)


def _storable(
    value: Any, key: str | None, text: Callable[[str | None, str], str] | None, depth: int, max_items: int | None
) -> Any:
    if _masked_secret(key, value):
        return SECRET_MARK
    if isinstance(value, str):
        value = safe_text(value)
        return text(key, value) if text is not None else value
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict | list | tuple):
        if depth >= STORABLE_DEPTH:
            return _TOO_DEEP
        if isinstance(value, dict):
            return {safe_text(str(k)): _storable(v, str(k), text, depth + 1, max_items) for k, v in value.items()}
        items = value if max_items is None or len(value) <= max_items else value[:max_items]
        kept = [_storable(v, None, text, depth + 1, max_items) for v in items]
        if len(items) < len(value):
            kept.append(f"…（另有{len(value) - len(items)}项未记录）")
        return kept
    return safe_text(str(value))  # Decimal and the like: text keeps every digit
