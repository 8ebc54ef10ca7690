"""AES-128-CBC/PKCS7 Data encryption and HMAC-MD5 signatures exactly as T/CEC 102.4 §4–§5 define them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
from typing import Any

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad

from .errors import DecryptError, InvalidKeyError

__all__ = [
    "DecryptError",
    "InvalidKeyError",
    "decrypt",
    "encrypt",
    "sign",
    "sign_request",
    "sign_response",
    "verify",
]

BLOCK = 16

# Java peers (commons-codec, sun.misc.BASE64Encoder) wrap Base64 at 76 chars with CRLF; strip any ASCII whitespace.
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")

# Decryption runs on every inbound request. Creating a CBC object costs ~11 µs in pycryptodome, but CBC *decryption*
# is just ECB-decrypt(C) XOR (IV || C[:-16]), so a cached ECB object (key schedule done once) does the same work in
# one call. ECB objects hold no per-call state; caching them per thread keeps that true even under free threading.
_local = threading.local()
_ECB_CACHE_MAX = 256


def _key_bytes(value: str, name: str) -> bytes:
    """Keys are the literal characters as UTF-8 bytes (never hex/Base64-decoded); AES-128 needs exactly 16."""
    if not isinstance(value, str):
        raise InvalidKeyError(f"{name} must be a str, got {type(value).__name__}", key=name)
    raw = value.encode("utf-8")
    if len(raw) != BLOCK:
        raise InvalidKeyError(f"{name} must be exactly 16 bytes (UTF-8), got {len(raw)}", key=name)
    return raw


def _ecb(key: bytes) -> Any:
    cache: dict[bytes, Any] | None = getattr(_local, "ecb", None)
    if cache is None:
        cache = _local.ecb = {}
    cipher = cache.get(key)
    if cipher is None:
        if len(cache) >= _ECB_CACHE_MAX:  # bounded: partners are few, but keys rotate
            cache.clear()
        cipher = cache[key] = AES.new(key, AES.MODE_ECB)
    return cipher


# Above this many bytes of ciphertext the CBC object's setup cost is nothing beside the work, and the cached-ECB path
# would hold six copies of the message at once (blocks, IV || C, two big ints, their XOR, unpadded): a 100 MB
# reconciliation is decrypted in place instead, into one buffer decoded once.
_LARGE = 64 * 1024


def _unpadded_text(plain: bytearray) -> str:
    padding = plain[-1]
    if not 1 <= padding <= BLOCK or plain[-padding:] != bytes([padding]) * padding:
        raise DecryptError("Data解密失败（填充错误，密钥可能不匹配）")
    try:
        return str(memoryview(plain)[:-padding], "utf-8")
    except UnicodeDecodeError as exc:
        raise DecryptError("Data解密后不是UTF-8文本") from exc


def encrypt(plaintext: str | bytes, data_secret: str, data_secret_iv: str) -> str:
    """Encrypt UTF-8 plaintext → standard Base64 (no line breaks) of AES-128-CBC with PKCS7 padding."""
    key = _key_bytes(data_secret, "DataSecret")
    iv = _key_bytes(data_secret_iv, "DataSecretIV")
    raw = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
    ciphertext = AES.new(key, AES.MODE_CBC, iv).encrypt(pad(raw, BLOCK))
    return base64.b64encode(ciphertext).decode("ascii")


def decrypt(data_b64: str, data_secret: str, data_secret_iv: str) -> str:
    """Decrypt a Base64 Data field to text; any malformation raises DecryptError (Ret 4003), never anything else."""
    key = _key_bytes(data_secret, "DataSecret")
    iv = _key_bytes(data_secret_iv, "DataSecretIV")
    if not isinstance(data_b64, str):
        raise DecryptError("Data必须是Base64字符串")
    compact = data_b64
    # The `in` scans are memchr-fast; a regex sub over every well-formed Data costs ~10 µs on the hot path.
    if " " in compact or "\r" in compact or "\n" in compact or "\t" in compact or "\f" in compact or "\v" in compact:
        compact = _WHITESPACE.sub("", compact)
    if len(compact) % 4:  # b64decode tolerates stray trailing "=" (e.g. "QUJD="); strict input is whole quanta
        raise DecryptError("Data不是合法的Base64编码")
    try:
        # strict_mode rejects characters outside the alphabet instead of silently skipping them (b64decode's
        # validate=True), and a2b_base64 reads the str itself: no ASCII copy of a 100 MB Data first.
        ciphertext = binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII characters in a str
        raise DecryptError("Data不是合法的Base64编码") from exc
    if not ciphertext or len(ciphertext) % BLOCK:
        raise DecryptError("Data长度不是AES分组长度的整数倍")
    if len(ciphertext) > _LARGE:
        plain = bytearray(len(ciphertext))
        AES.new(key, AES.MODE_CBC, iv).decrypt(ciphertext, output=plain)
        del ciphertext  # freed before the text is made: one buffer and the text, not three copies
        return _unpadded_text(plain)
    blocks = _ecb(key).decrypt(ciphertext)
    chained = int.from_bytes(blocks, "big") ^ int.from_bytes(iv + ciphertext[:-BLOCK], "big")
    padded = chained.to_bytes(len(ciphertext), "big")
    try:
        raw = unpad(padded, BLOCK)
    except ValueError as exc:  # wrong key/IV shows up here in ~99.6 % of cases
        raise DecryptError("Data解密失败（填充错误，密钥可能不匹配）") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecryptError("Data解密后不是UTF-8文本") from exc


def sign(sig_secret: str, *parts: str | int) -> str:
    """HMAC-MD5 over the parts concatenated without separators; 32 UPPERCASE hex chars (the form we always send)."""
    mac = hmac.new(sig_secret.encode("utf-8"), digestmod=hashlib.md5)
    # Part by part, not joined first: a reconciliation's Data is 100 MB, and joining would copy it twice more.
    for part in parts:
        mac.update((part if isinstance(part, str) else str(int(part))).encode("utf-8"))
    return mac.hexdigest().upper()


def sign_request(sig_secret: str, operator_id: str, data: str, timestamp: str, seq: str) -> str:
    """Request Sig = HMAC-MD5(SigSecret, OperatorID + Data + TimeStamp + Seq), Data being the Base64 as sent."""
    return sign(sig_secret, operator_id, data, timestamp, seq)


def sign_response(sig_secret: str, ret: int, msg: str, data: str) -> str:
    """Response Sig = HMAC-MD5(SigSecret, str(Ret) + Msg + Data); Ret as decimal text, empty Msg/Data included."""
    return sign(sig_secret, int(ret), msg, data)


def verify(expected: str, received: str, *, allow_lowercase: bool = True) -> bool:
    """Constant-time Sig comparison; by default case-insensitive on input (some peers send lowercase hex)."""
    if not isinstance(received, str):
        return False
    candidate = received.upper() if allow_lowercase else received
    # compare_digest refuses non-ASCII str, and a peer can send anything: compare bytes instead.
    return hmac.compare_digest(expected.encode("utf-8"), candidate.encode("utf-8", "surrogatepass"))
