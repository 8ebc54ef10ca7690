"""Encryption at rest for secrets (operator key sets, peer tokens): AES-256-GCM under keys from settings.

Kept apart from the wire codec on purpose: this protects what the database holds, the codec protects what
travels. `HLHT_SECRET_KEYS` lists keys newest first: the first encrypts, all decrypt, so a key can be rotated
by prepending a new one, re-sealing (`manage.py hlht_reseal`), then dropping the old one.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes
from django.conf import settings

from apps.core.conf import conf

PREFIX = "gcm1"


class SecretBoxError(Exception):
    """A sealed value could not be opened: wrong or missing key, or tampered data."""


@lru_cache(maxsize=8)
def _derive(material: str) -> tuple[str, bytes]:
    key = hashlib.sha256(b"hlht-secretbox\x00" + material.encode("utf-8")).digest()
    return hashlib.sha256(key).hexdigest()[:8], key


def _keys() -> list[tuple[str, bytes]]:
    materials = list(conf().protocol.secret_keys) or [settings.SECRET_KEY]
    return [_derive(m) for m in materials]


def seal(plaintext: str) -> str:
    """Encrypt a secret for storage: `gcm1:<key id>:<base64(nonce | ciphertext | tag)>`."""
    key_id, key = _keys()[0]
    nonce = get_random_bytes(12)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext.encode("utf-8"))
    return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + ciphertext + tag).decode('ascii')}"


def unseal(sealed: str) -> str:
    """Decrypt a value made by `seal`, with whichever configured key made it."""
    try:
        prefix, key_id, body = sealed.split(":", 2)
        raw = base64.b64decode(body, validate=True)
    except (ValueError, AttributeError) as exc:
        raise SecretBoxError("not a sealed value") from exc
    if prefix != PREFIX or len(raw) < 12 + 16:
        raise SecretBoxError("not a sealed value")
    for candidate_id, key in _keys():
        if candidate_id == key_id:
            cipher = AES.new(key, AES.MODE_GCM, nonce=raw[:12])
            try:
                return cipher.decrypt_and_verify(raw[12:-16], raw[-16:]).decode("utf-8")
            except ValueError as exc:
                raise SecretBoxError("sealed value failed authentication") from exc
    raise SecretBoxError(f"no configured key with id {key_id}")


def needs_reseal(sealed: str) -> bool:
    """True when the value was sealed with a key other than the current first key."""
    return not sealed.startswith(f"{PREFIX}:{_keys()[0][0]}:")
