"""Secrets: generation, hashing for lookup, encryption at rest, passwords.

Keys and tokens are 256 random bits from ``secrets``, shown once and stored as SHA-256. Secrets
the server must read back (developers' HMAC keys) are sealed with AES-256-GCM under a key
derived from the installation's secret key.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_passwords = PasswordHasher()


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(value: str) -> str:
    """SHA-256 of a high-entropy secret, for lookup; never use for passwords."""
    return hashlib.sha256(value.encode()).hexdigest()


def derive_key(master: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the installation's secret key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(master.encode())


class SecretBox:
    """AES-256-GCM sealing for secrets stored in the database."""

    _version = "v1"

    def __init__(self, master: str) -> None:
        self._aead = AESGCM(derive_key(master, "gamekeeper/secret-box/v1"))

    def seal(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext``; ``context`` (e.g. the row id) is authenticated, not stored."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self._version}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, *, context: str) -> str:
        """Decrypt what ``seal`` produced with the same context; ValueError if tampered."""
        version, _, payload = token.partition(":")
        if version != self._version:
            raise ValueError("unknown sealed-secret version")
        raw = base64.b64decode(payload)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("sealed secret does not verify") from exc


def constant_time_equal(a: str, b: str) -> bool:
    """Whether two texts are equal, in a time that depends on their lengths only.

    Every credential a client presents is compared with this: ``hmac.compare_digest`` raises
    TypeError on a ``str`` that is not ASCII, so both sides are compared as UTF-8 (a lone
    surrogate, which JSON can carry, included); a non-ASCII guess is simply unequal.
    """
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


async def hash_password(password: str) -> str:
    """Argon2id hash, computed off the event loop (it is deliberately slow)."""
    return await asyncio.to_thread(_passwords.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _passwords.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
