"""Builds Steam Encrypted App Tickets the way Steam does, for tests, with a test key.

The exact inverse of ``gamekeeper.core.matchmaking.steam_ticket`` (its docstring has the
layout): ownership ticket, plaintext with salted SHA-1, CRC-32 of the plaintext, AES-256 with an
ECB-encrypted IV then CBC with PKCS#7, and a protobuf envelope written field by field. Each
``bad_*`` switch breaks one thing, so a test can show the decrypter notices it.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.padding import PKCS7

TEST_APP_ID = 480
TEST_STEAM_ID = 76561197960287930  # individual account in the public universe


def new_key() -> bytes:
    return os.urandom(32)


def ownership_ticket(
    *,
    steam_id: int,
    app_id: int,
    issued_at: datetime,
    expires_at: datetime,
    licenses: Sequence[int] = (0,),
    dlc: Sequence[tuple[int, Sequence[int]]] = (),
    version: int = 4,
) -> bytes:
    body = struct.pack(
        "<IQIIIIII",
        version,
        steam_id,
        app_id,
        0x0A000001,  # external IP 10.0.0.1
        0xC0A80001,  # internal IP 192.168.0.1
        0,  # flags
        int(issued_at.timestamp()),
        int(expires_at.timestamp()),
    )
    body += _licenses(licenses)
    body += struct.pack("<H", len(dlc))
    for dlc_app_id, dlc_licenses in dlc:
        body += struct.pack("<I", dlc_app_id) + _licenses(dlc_licenses)
    body += struct.pack("<H", 0)  # reserved
    return struct.pack("<I", 4 + len(body)) + body


def plaintext(
    ownership: bytes,
    *,
    user_data: bytes = b"",
    ticket_version: int = 1,
    digest: bool = True,
    bad_digest: bool = False,
) -> bytes:
    signed = user_data + ownership
    if ticket_version == 2:
        signed += struct.pack("<IIIII", 0, 0, len(user_data), len(ownership), len(ownership))
    if not digest:
        return signed
    salt = os.urandom(8)
    sha1 = hashlib.sha1(signed + salt).digest()
    if bad_digest:
        sha1 = bytes([sha1[0] ^ 1]) + sha1[1:]
    return signed + salt + sha1


def symmetric_encrypt(plain: bytes, key: bytes, iv: bytes | None = None) -> bytes:
    """AES-256: the IV encrypted with ECB, then the PKCS#7-padded plaintext with CBC."""
    iv = iv if iv is not None else os.urandom(16)
    head = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(iv)
    padder = PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return head + encryptor.update(padded) + encryptor.finalize()


def envelope(
    *, version: int, crc: int, user_data_size: int, ownership_size: int, encrypted: bytes
) -> bytes:
    """The protobuf ``EncryptedAppTicket``: fields 1-4 as varints, 5 length-delimited."""
    out = bytearray()
    for number, value in ((1, version), (2, crc), (3, user_data_size), (4, ownership_size)):
        out += varint(number << 3) + varint(value)
    out += varint(5 << 3 | 2) + varint(len(encrypted)) + encrypted
    return bytes(out)


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def build_ticket(
    key: bytes,
    *,
    issued_at: datetime,
    steam_id: int = TEST_STEAM_ID,
    app_id: int = TEST_APP_ID,
    expires_at: datetime | None = None,
    user_data: bytes = b"",
    ticket_version: int = 1,
    digest: bool = True,
    bad_digest: bool = False,
    bad_crc: bool = False,
) -> bytes:
    """A complete ticket, as ``ISteamUser::GetEncryptedAppTicket`` hands it to a game."""
    ownership = ownership_ticket(
        steam_id=steam_id,
        app_id=app_id,
        issued_at=issued_at,
        expires_at=expires_at or issued_at + timedelta(days=21),
    )
    plain = plaintext(
        ownership,
        user_data=user_data,
        ticket_version=ticket_version,
        digest=digest,
        bad_digest=bad_digest,
    )
    crc = zlib.crc32(plain) ^ (1 if bad_crc else 0)
    return envelope(
        version=ticket_version,
        crc=crc,
        user_data_size=len(user_data),
        ownership_size=len(ownership),
        encrypted=symmetric_encrypt(plain, key),
    )


def _licenses(licenses: Sequence[int]) -> bytes:
    return struct.pack("<H", len(licenses)) + b"".join(struct.pack("<I", x) for x in licenses)
