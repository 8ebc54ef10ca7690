"""A connector's printable QR code (appendix A): the standard string as a PNG."""

from __future__ import annotations

import io

import segno

from apps.protocol.qr import qr_text

from .models import Connector


def connector_qr_text(connector: Connector) -> str:
    return qr_text(connector.connector_id, connector.operator_id)


def connector_qr_png(connector: Connector, *, scale: int = 10) -> bytes:
    """The connector's code as a PNG: error correction M (a sticker survives scratches), a quiet zone of 4."""
    buffer = io.BytesIO()
    segno.make(connector_qr_text(connector), error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
