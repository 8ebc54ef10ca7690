"""The connector QR code of the interconnection rules (appendix A): `hlht://<ConnectorID>.<OperatorID>/[custom]`."""

from __future__ import annotations

from dataclasses import dataclass

from .timestamps import is_operator_id

__all__ = ["SCHEME", "QRCode", "qr_parse", "qr_text"]

SCHEME = "hlht://"
MAX_CONNECTOR_ID = 26


@dataclass(frozen=True, slots=True)
class QRCode:
    """A scanned code: the connector, its operator, and the operator-defined rest (sent verbatim as `QRCode` in
    query_start_charge). `extra` is the 充电网 vendor form `?extra=a|b|…`, split, when present."""

    connector_id: str
    operator_id: str
    custom: str = ""
    extra: tuple[str, ...] = ()


def qr_text(connector_id: str, operator_id: str, custom: str = "") -> str:
    """The standard string printed on a connector: `hlht://<ConnectorID>.<OperatorID>/` plus any custom part."""
    return f"{SCHEME}{connector_id}.{operator_id}/{custom}"


def qr_parse(text: str) -> QRCode:
    """Parse a scanned string; ValueError naming what is wrong. The operator is the last `.`-part before the first
    `/` (ConnectorIDs normally have no dots, but the split is from the right to be safe)."""
    value = text.strip()
    if not value.lower().startswith(SCHEME):
        raise ValueError("二维码不是 hlht:// 开头的充电接口二维码")
    rest = value[len(SCHEME) :]
    head, slash, custom = rest.partition("/")
    if not slash:
        head, _, query = head.partition("?")
        custom = f"?{query}" if query else ""
    connector_id, dot, operator_id = head.rpartition(".")
    if not dot or not connector_id:
        raise ValueError("二维码缺少“充电设备接口编码.运营商ID”")
    if not is_operator_id(operator_id):
        raise ValueError(f"二维码中的运营商ID“{operator_id[:20]}”不是9位字母或数字")
    if len(connector_id) > MAX_CONNECTOR_ID or not (connector_id.isascii() and connector_id.isprintable()):
        raise ValueError("二维码中的充电设备接口编码不合法（最长26位）")
    extra: tuple[str, ...] = ()
    _, question, query = custom.partition("?")
    if question:
        for part in query.split("&"):
            name, _, values = part.partition("=")
            if name == "extra":
                extra = tuple(values.split("|"))
    return QRCode(connector_id=connector_id, operator_id=operator_id, custom=custom, extra=extra)
