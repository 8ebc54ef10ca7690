"""Per-peer dialect flags: T/CEC 102.4 deviations the portal accepts on input (it always emits the standard)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from .errors import EnvelopeError, TokenError
from .timestamps import millis_to_timestamp, parse_timestamp

__all__ = [
    "SERVICE_ALIASES",
    "STANDARD",
    "Dialect",
    "build_base_url",
    "normalise_aliases",
    "normalise_timestamp",
    "parse_authorization",
    "standard_envelope_keys",
    "standard_field_names",
]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What one peer is known to get wrong; every flag defaults to False (strict standard)."""

    # Kept so an operator record maps 1:1 onto a Dialect, but it changes nothing: Sig verification is
    # case-insensitive for every peer (transport digest §5 and the issue), and we always send uppercase.
    lowercase_sig: bool = False
    # Authorization: "<token>" without the "Bearer " scheme.
    bare_token: bool = False
    # TimeStamp as 13-digit epoch milliseconds instead of yyyyMMddHHmmss.
    millisecond_timestamp: bool = False
    # ServicePrice/ServiceMoney/… and ElectMoney instead of the standard's SevicePrice/SeviceMoney/… and ElecMoney.
    service_spelling: bool = False
    # The peer's interfaces live under /evcs/20160701/ (no "v"), e.g. Beijing e充网; see build_base_url().
    no_v_base_url: bool = False
    # Envelope keys in lower case (ret, msg, data, sig; operatorID/operatorId, timeStamp, seq…), as one FastAPI
    # operator server answers; see standard_envelope_keys().
    lowercase_keys: bool = False
    # Data field names in lowerCamel (succStat, accessToken, stationInfos, connectorID); see standard_field_names().
    lower_camel_fields: bool = False


STANDARD = Dialect()

# Variant spelling → standard spelling (business-information digest §9). The standard's "Sevice" typo is what we send.
SERVICE_ALIASES: dict[str, str] = {
    "ServicePrice": "SevicePrice",
    "ServiceMoney": "SeviceMoney",
    "DetailServiceMoney": "DetailSeviceMoney",
    "TotalServiceMoney": "TotalSeviceMoney",
    "ElectMoney": "ElecMoney",
}

T = TypeVar("T")


def _rename(value: Any) -> Any:
    if isinstance(value, dict):
        renamed: dict[str, Any] = {}
        for key, item in value.items():
            target: str = SERVICE_ALIASES.get(key) or key
            if target != key and target in value:
                continue  # both spellings present: the standard one wins rather than depending on key order
            renamed[target] = _rename(item)
        return renamed
    if isinstance(value, list):
        return [_rename(item) for item in value]
    return value


def _upper_first(value: Any) -> Any:
    if isinstance(value, dict):
        renamed: dict[str, Any] = {}
        for key, item in value.items():
            target = key[:1].upper() + key[1:] if isinstance(key, str) else key
            if target != key and target in value:
                continue  # both forms present: the standard one wins
            renamed[target] = _upper_first(item)
        return renamed
    if isinstance(value, list):
        return [_upper_first(item) for item in value]
    return value


def standard_field_names(payload: T) -> T:
    """lowerCamel Data keys (`succStat`, `connectorID`) to the standard's UpperCamel (`SuccStat`, `ConnectorID`)."""
    return cast(T, _upper_first(payload))  # the same shape as it came, keys renamed


# Lower-case (and camel) spellings of the envelope's keys seen in the field → the standard's.
_ENVELOPE_KEYS = {key.lower(): key for key in ("Ret", "Msg", "Data", "Sig", "OperatorID", "TimeStamp", "Seq")}


def standard_envelope_keys(obj: dict[str, Any]) -> dict[str, Any]:
    """An envelope whose keys are in another case (`ret`, `operatorId`, `timeStamp`) with the standard's keys."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        target = _ENVELOPE_KEYS.get(key.lower(), key) if isinstance(key, str) else key
        if target in out and target == key:
            out[target] = value  # the standard spelling wins over a variant seen earlier
        elif target not in out:
            out[target] = value
    return out


def normalise_aliases(payload: T, dialect: Dialect) -> T:
    """Rename variant keys to the standard spelling, recursively, when the peer's dialect allows them."""
    if dialect.lower_camel_fields:
        payload = standard_field_names(payload)
    if not dialect.service_spelling:
        return payload  # strict peers: a variant key stays unknown and business validation reports it (4004)
    return cast(T, _rename(payload))  # the same shape as it came, keys renamed


# Scheme is case-insensitive (RFC 7235); the token is visible ASCII without spaces (UUIDs, hex, b64token).
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([!-~]+)")
_BARE = re.compile(r"[!-~]+")


def parse_authorization(header: str | None, dialect: Dialect = STANDARD) -> str:
    """Extract the access token from an Authorization header value; TokenError (4002) when absent or malformed."""
    if not header or not header.strip():
        raise TokenError("缺少Authorization请求头")
    value = header.strip()
    match = _BEARER.fullmatch(value)
    if match is not None:
        return match.group(1)
    if dialect.bare_token and _BARE.fullmatch(value) and value.lower() != "bearer":
        return value
    raise TokenError("Authorization格式错误，应为 Bearer <token>")


def normalise_timestamp(value: str, dialect: Dialect = STANDARD) -> str:
    """Return a valid 14-digit TimeStamp; a 13-digit epoch-millisecond one is converted only under its dialect flag."""
    try:
        parse_timestamp(value)
        return value
    except ValueError:
        pass
    if dialect.millisecond_timestamp and len(value) == 13 and value.isascii() and value.isdigit():
        return millis_to_timestamp(value)
    raise EnvelopeError("参数TimeStamp格式错误，应为14位yyyyMMddHHmmss")


def build_base_url(root: str, version: str, dialect: Dialect = STANDARD) -> str:
    """`<root>/evcs/v<version>/`, or `<root>/evcs/<version>/` for no-"v" peers; base URLs stay configurable anyway."""
    prefix = "" if dialect.no_v_base_url else "v"
    return f"{root.rstrip('/')}/evcs/{prefix}{version.removeprefix('v')}/"
