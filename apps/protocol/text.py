"""What text a peer may send, and how any text it sent is made safe to sign, log and store: one definition of both."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["FORBIDDEN", "STORABLE_DEPTH", "first_forbidden", "safe_text", "storable"]

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
    """A JSON-storable copy of anything a peer sent: every string (keys too) made safe, numbers that JSON cannot hold
    exactly (Decimal) as text, and nesting cut at STORABLE_DEPTH. `text(key, value)` may rewrite each string after it
    was made safe (the journal masks personal data with it); `max_items` keeps the first items of a longer list and
    says how many were left out (a reconciliation lists a million orders)."""
    return _storable(value, key, text, 0, max_items)


def _storable(
    value: Any, key: str | None, text: Callable[[str | None, str], str] | None, depth: int, max_items: int | None
) -> Any:
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
