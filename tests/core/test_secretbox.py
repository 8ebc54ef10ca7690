"""Secrets at rest: sealed with AES-GCM, tamper-evident, and readable across a key rotation."""

import pytest
from django.test import override_settings

from apps.core.secretbox import SecretBoxError, needs_reseal, seal, unseal


def test_roundtrip_and_randomised():
    a, b = seal("1234567890abcdef"), seal("1234567890abcdef")
    assert a != b  # fresh nonce each time
    assert unseal(a) == unseal(b) == "1234567890abcdef"
    assert "1234567890abcdef" not in a


def test_tampering_is_detected():
    sealed = seal("secret")
    prefix, key_id, body = sealed.split(":")
    flipped = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")
    with pytest.raises(SecretBoxError):
        unseal(f"{prefix}:{key_id}:{flipped}")
    for junk in ("", "plain text", "gcm1:zz:!!!", "gcm1:abcd1234:QUJD"):
        with pytest.raises(SecretBoxError):
            unseal(junk)


def test_key_rotation():
    with override_settings(HLHT_SECRET_KEYS=["old-key-material"]):
        old = seal("s3cret")
    with override_settings(HLHT_SECRET_KEYS=["new-key-material", "old-key-material"]):
        assert unseal(old) == "s3cret"
        assert needs_reseal(old)
        assert not needs_reseal(seal("x"))
    with (
        override_settings(HLHT_SECRET_KEYS=["new-key-material"]),
        pytest.raises(SecretBoxError, match="no configured key"),
    ):
        unseal(old)
