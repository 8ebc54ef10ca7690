"""Malformed and edge-case inputs for the AES/HMAC primitives."""

from __future__ import annotations

import base64

import pytest

from apps.protocol import DecryptError, InvalidKeyError, Ret, decrypt, encrypt, sign, verify

from .support import EXAMPLE_KEY, vectors

K = EXAMPLE_KEY
BY_ID = {v["id"]: v for v in vectors()}
P1_DATA = BY_ID["P1"]["Data"]
C1_DATA = BY_ID["C1"]["Data"]


def _mime(data: str, width: int = 76) -> str:
    """How commons-codec / sun.misc encoders wrap Base64: CRLF every 76 characters (and a trailing one)."""
    return "".join(data[i : i + width] + "\r\n" for i in range(0, len(data), width))


def test_mime_line_broken_base64_is_accepted() -> None:
    wrapped = _mime(P1_DATA)
    assert "\r\n" in wrapped
    assert decrypt(wrapped, K, K) == BY_ID["P1"]["plaintext"]


def test_spaces_tabs_and_lf_are_stripped_too() -> None:
    assert decrypt(" \t" + C1_DATA[:30] + "\n" + C1_DATA[30:] + " ", K, K) == BY_ID["C1"]["plaintext"]


def test_encrypt_never_emits_line_breaks() -> None:
    data = encrypt("x" * 2000, K, K)
    assert "\n" not in data
    assert "\r" not in data


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(C1_DATA[:-1], id="truncated-by-one-char"),
        pytest.param(C1_DATA[:-4], id="truncated-to-partial-block"),
        pytest.param(C1_DATA.rstrip("="), id="padding-removed"),
        pytest.param(C1_DATA + "=", id="excess-padding"),
        pytest.param("QUJD=", id="stray-trailing-pad"),
        pytest.param("QQ==QQ==", id="data-after-padding"),
        pytest.param(C1_DATA.replace("/", "_").replace("+", "-"), id="urlsafe-alphabet"),
        pytest.param("!!!!" + C1_DATA[4:], id="bad-characters"),
        pytest.param("密文" + C1_DATA[2:], id="non-ascii"),
        pytest.param("", id="empty"),
        pytest.param("   \r\n", id="whitespace-only"),
        pytest.param(base64.b64encode(b"0123456789abcde").decode(), id="not-whole-blocks"),
    ],
)
def test_malformed_base64_raises_decrypt_error(data: str) -> None:
    with pytest.raises(DecryptError) as info:
        decrypt(data, K, K)
    assert info.value.ret == Ret.PARAMETERS


def test_wrong_key_raises_decrypt_error() -> None:
    with pytest.raises(DecryptError):
        decrypt(BY_ID["C2"]["Data"], "abcdef1234567890", K)


def test_wrong_iv_only_garbles_first_block_and_breaks_json_not_the_codec() -> None:
    # CBC with a wrong IV decrypts everything but block 1; the codec still returns text or DecryptError, never crashes.
    try:
        text = decrypt(BY_ID["C2"]["Data"], K, "abcdef1234567890")
    except DecryptError:
        return
    assert text != BY_ID["C2"]["plaintext"]


def test_bad_padding_raises_decrypt_error() -> None:
    # Encrypt with no padding at all: the last byte is "f" (0x66), which is no valid PKCS7 pad.
    from Crypto.Cipher import AES

    raw = AES.new(K.encode(), AES.MODE_CBC, K.encode()).encrypt(b"0123456789abcdef")
    with pytest.raises(DecryptError, match="填充"):
        decrypt(base64.b64encode(raw).decode(), K, K)


def test_non_utf8_plaintext_raises_decrypt_error() -> None:
    data = encrypt(b"\xff\xfe\xfd not utf-8", K, K)
    with pytest.raises(DecryptError, match="UTF-8"):
        decrypt(data, K, K)


def test_non_str_data_raises_decrypt_error() -> None:
    with pytest.raises(DecryptError):
        decrypt(None, K, K)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "iv"),
    [
        pytest.param("123456789012345", K, id="15-byte-key"),
        pytest.param("12345678901234567", K, id="17-byte-key"),
        pytest.param("密钥密钥密钥密钥密钥密钥密钥密钥", K, id="16-chars-48-bytes"),
        pytest.param(K, "short", id="short-iv"),
    ],
)
def test_keys_must_be_16_utf8_bytes(secret: str, iv: str) -> None:
    with pytest.raises(InvalidKeyError, match="16 bytes"):
        encrypt("{}", secret, iv)
    with pytest.raises(InvalidKeyError, match="16 bytes"):
        decrypt(C1_DATA, secret, iv)


def test_invalid_key_error_is_a_value_error() -> None:
    assert issubclass(InvalidKeyError, ValueError)


def test_bytes_and_str_plaintext_encrypt_identically() -> None:
    text = '{"StationName":"充电站名称"}'
    assert encrypt(text, K, K) == encrypt(text.encode("utf-8"), K, K)


def test_full_padding_block_for_block_sized_plaintext() -> None:
    # V-C7 of the transport digest: 16 plaintext bytes give 32 ciphertext bytes.
    data = encrypt("0123456789abcdef", K, K)
    assert data == "2MDGRr7LgLO+4xY4tLjJolwKUPQ/yUFKdSob2r4No6k="
    assert len(base64.b64decode(data)) == 32


def test_digest_vector_c6_utf8_plaintext() -> None:
    plaintext = '{"StationID":"000000000000001","StationName":"充电站名称"}'
    expected = "8n51d1jetQZqL6qJeOLRWVwBPJdjfVY0QqRFIah+hhjs+H5AFTwofEVY7luV/sFjm7xmrdosKl+0DREVlT4NoA=="
    assert encrypt(plaintext, K, K) == expected
    assert decrypt(expected, K, K) == plaintext


def test_sign_is_uppercase_hex_and_renders_ints_as_decimal() -> None:
    sig = sign(K, -1, "", "")
    assert len(sig) == 32
    assert sig == sig.upper()
    assert sign(K, -1, "x") == sign(K, "-1", "x")


@pytest.mark.parametrize(
    ("received", "expected_result"),
    [
        pytest.param("745166E8C43C84D37FFEC0F529C4136F", True, id="upper"),
        pytest.param("745166e8c43c84d37ffec0f529c4136f", True, id="lower"),
        pytest.param("745166e8C43C84D37FFEC0F529C4136f", True, id="mixed"),
        pytest.param("745166E8C43C84D37FFEC0F529C4136", False, id="short"),
        pytest.param("", False, id="empty"),
        pytest.param("签名" * 16, False, id="non-ascii"),
        pytest.param("\ud800" * 32, False, id="lone-surrogates"),
    ],
)
def test_verify(received: str, expected_result: bool) -> None:
    assert verify("745166E8C43C84D37FFEC0F529C4136F", received) is expected_result


def test_verify_strict_case_when_asked() -> None:
    assert not verify("745166E8C43C84D37FFEC0F529C4136F", "745166e8c43c84d37ffec0f529c4136f", allow_lowercase=False)


def test_verify_rejects_non_str() -> None:
    assert not verify("745166E8C43C84D37FFEC0F529C4136F", None)  # type: ignore[arg-type]
