"""Steam Encrypted App Tickets, decrypted and checked offline with the app's 32-byte key.

The ticket is a protobuf ``EncryptedAppTicket``: 1 ticket_version_no, 2 crc_encryptedticket,
3 cb_encrypteduserdata, 4 cb_encrypted_appownershipticket (all uint32), 5 encrypted_ticket
(bytes). ``encrypted_ticket`` is 16 bytes holding the IV, encrypted with AES-256-ECB, then the
plaintext under AES-256-CBC with that IV and PKCS#7 padding. Despite the field's name, the CRC-32
covers the *plaintext* (checked against a real ticket). The plaintext, integers little-endian:

    user data                 cb_encrypteduserdata bytes, chosen by the game client
    ownership ticket          u32 length (counting itself), u32 version, u64 SteamID, u32 AppID,
                              u32 external IP, u32 internal IP, u32 flags, u32 issued (unix),
                              u32 expires (unix), u16 n + n x u32 licences,
                              u16 m + m x (u32 DLC AppID, u16 k + k x u32 licences), u16 reserved
    (ticket version 2)        20 bytes restating the sizes of the parts
    salt, digest              8 bytes and SHA-1(everything before the salt + salt), when present

Each refusal names its reason (the ``*_REASON`` constants), shown to the client as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.padding import PKCS7

from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.matchmaking.external import ExternalAuthRefused, ExternalUser

__all__ = [
    "CLOCK_SKEW", "EXPIRED_REASON", "FUTURE_REASON", "KEY_BYTES", "MALFORMED_REASON",
    "UNDECRYPTABLE_REASON", "WRONG_APP_REASON", "AppTicket", "SteamAppKeyInvalid",
    "app_key_from_hex", "decrypt_app_ticket", "open_app_ticket", "ticket_from_hex",
]  # fmt: skip

KEY_BYTES = 32
MAX_TICKET_BYTES = 4096  # real tickets are 150-300 bytes; at most 140 DLCs fit in one
CLOCK_SKEW = timedelta(minutes=5)  # a ticket may look this far ahead of our clock

MALFORMED_REASON = "malformed ticket"
UNDECRYPTABLE_REASON = "ticket does not decrypt"
WRONG_APP_REASON = "wrong app"
EXPIRED_REASON = "ticket expired"
FUTURE_REASON = "ticket issued in the future"

_KNOWN_VERSIONS = {1: 0, 2: 20}  # ticket_version_no → bytes between ownership ticket and salt
_OWNERSHIP_HEAD = struct.Struct("<IIQIIIIII")
_SIGNATURE_BYTES = 128
_SALT_BYTES, _DIGEST_BYTES = 8, 20
_UINT32_MAX = 0xFFFF_FFFF


class SteamAppKeyInvalid(InvalidInput):
    code = "invalid_steam_app_key"
    message = "A Steam app ticket key is 64 hexadecimal digits (32 bytes)"


@dataclass(frozen=True, slots=True)
class AppTicket:
    """What a decrypted ticket says; not yet checked against an app or a clock."""

    version: int
    steam_id: int
    app_id: int
    issued_at: datetime
    expires_at: datetime
    user_data: bytes
    licenses: tuple[int, ...]
    dlc_app_ids: tuple[int, ...]


def app_key_from_hex(text: str) -> bytes:
    """The 32-byte key Steamworks shows as hex under "Encrypted App Ticket Key"."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise SteamAppKeyInvalid() from None
    if len(key) != KEY_BYTES:
        raise SteamAppKeyInvalid()
    return key


def ticket_from_hex(text: str) -> bytes:
    """The ticket bytes a client sent as hex; anything else is a malformed ticket."""
    # fromhex alone would also take spaces; only digits and letters pass this test.
    if len(text) > 2 * MAX_TICKET_BYTES or not (text.isascii() and text.isalnum()):
        raise ExternalAuthRefused(MALFORMED_REASON)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ExternalAuthRefused(MALFORMED_REASON) from None


def decrypt_app_ticket(
    ticket: bytes,
    key: bytes,
    *,
    app_id: int,
    now: datetime,
    max_age: timedelta,
    skew: timedelta = CLOCK_SKEW,
) -> ExternalUser:
    """The Steam user an encrypted app ticket names, if it is for ``app_id`` and fresh."""
    opened = open_app_ticket(ticket, key)
    if opened.app_id != app_id:
        raise ExternalAuthRefused(WRONG_APP_REASON)
    if opened.issued_at > now + skew:
        raise ExternalAuthRefused(FUTURE_REASON)
    if opened.issued_at + max_age < now or opened.expires_at < now:
        raise ExternalAuthRefused(EXPIRED_REASON)
    return ExternalUser(provider="steam", subject=str(opened.steam_id), name=None, picture_url=None)


def open_app_ticket(ticket: bytes, key: bytes) -> AppTicket:
    """Decrypt and parse a ticket; refuse it when it is malformed or does not decrypt."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a Steam app ticket key is {KEY_BYTES} bytes, not {len(key)}")
    if len(ticket) > MAX_TICKET_BYTES:
        raise ExternalAuthRefused(MALFORMED_REASON)
    fields = _protobuf_fields(ticket)
    version = _uint32(fields, 1)
    crc = _uint32(fields, 2)
    user_data_size = _uint32(fields, 3)
    encrypted = fields.get(5)
    if version not in _KNOWN_VERSIONS or not isinstance(encrypted, bytes):
        raise ExternalAuthRefused(MALFORMED_REASON)
    plain = _decrypt(encrypted, key)
    if zlib.crc32(plain) != crc:
        raise ExternalAuthRefused(UNDECRYPTABLE_REASON)
    ownership_end, opened = _ownership(plain, user_data_size, version)
    _check_digest(plain, ownership_end + _KNOWN_VERSIONS[version])
    return opened


def _decrypt(encrypted: bytes, key: bytes) -> bytes:
    if len(encrypted) < 32 or len(encrypted) % 16:
        raise ExternalAuthRefused(MALFORMED_REASON)
    iv = Cipher(algorithms.AES(key), modes.ECB()).decryptor().update(encrypted[:16])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(encrypted[16:]) + decryptor.finalize()
    unpadder = PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:  # a wrong key or a damaged ticket leaves no valid padding
        raise ExternalAuthRefused(UNDECRYPTABLE_REASON) from None


def _ownership(plain: bytes, start: int, version: int) -> tuple[int, AppTicket]:
    """Parse the ownership ticket at ``start``; return where it ends and the ticket."""
    try:
        length, _, steam_id, app_id, _, _, _, issued, expires = _OWNERSHIP_HEAD.unpack_from(
            plain, start
        )
        end = start + length
        if length < _OWNERSHIP_HEAD.size or end > len(plain):
            raise ExternalAuthRefused(MALFORMED_REASON)
        reader = _Reader(plain[:end], start + _OWNERSHIP_HEAD.size)
        licenses = reader.licenses()
        dlc = []
        for _ in range(reader.u16()):
            dlc.append(reader.u32())
            reader.licenses()
        reader.u16()  # reserved
    except struct.error:
        raise ExternalAuthRefused(MALFORMED_REASON) from None
    if reader.pos not in (end, end - _SIGNATURE_BYTES) or steam_id == 0:
        raise ExternalAuthRefused(MALFORMED_REASON)
    return end, AppTicket(
        version=version,
        steam_id=steam_id,
        app_id=app_id,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
        user_data=plain[:start],
        licenses=licenses,
        dlc_app_ids=tuple(dlc),
    )


def _check_digest(plain: bytes, signed_end: int) -> None:
    """Check the salted SHA-1 that follows the ticket's parts, when the ticket carries one."""
    if signed_end > len(plain):
        raise ExternalAuthRefused(MALFORMED_REASON)
    trailer = plain[signed_end:]
    if len(trailer) < _SALT_BYTES + _DIGEST_BYTES:
        return
    salt, digest = trailer[:_SALT_BYTES], trailer[_SALT_BYTES : _SALT_BYTES + _DIGEST_BYTES]
    expected = hashlib.sha1(plain[:signed_end] + salt).digest()
    if not hmac.compare_digest(expected, digest):
        raise ExternalAuthRefused(UNDECRYPTABLE_REASON)


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def u16(self) -> int:
        (value,) = struct.unpack_from("<H", self.data, self.pos)
        self.pos += 2
        return int(value)

    def u32(self) -> int:
        (value,) = struct.unpack_from("<I", self.data, self.pos)
        self.pos += 4
        return int(value)

    def licenses(self) -> tuple[int, ...]:
        return tuple(self.u32() for _ in range(self.u16()))


def _protobuf_fields(data: bytes) -> dict[int, int | bytes]:
    """The fields of a protobuf message: varints and length-delimited bytes; last one wins."""
    fields: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire_type = tag >> 3, tag & 7
        value: int | bytes
        if wire_type == 0:
            value, pos = _varint(data, pos)
        elif wire_type == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire_type in (1, 5):  # fixed64, fixed32: none in this message; skipped
            pos += 8 if wire_type == 1 else 4
            continue
        else:
            raise ExternalAuthRefused(MALFORMED_REASON)
        if number == 0 or pos > len(data):
            raise ExternalAuthRefused(MALFORMED_REASON)
        fields[number] = value
    if pos != len(data):
        raise ExternalAuthRefused(MALFORMED_REASON)
    return fields


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise ExternalAuthRefused(MALFORMED_REASON)


def _uint32(fields: dict[int, int | bytes], number: int) -> int:
    value = fields.get(number, 0)
    if not isinstance(value, int) or value > _UINT32_MAX:
        raise ExternalAuthRefused(MALFORMED_REASON)
    return value
