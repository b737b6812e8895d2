"""Blob store for uploaded images: content-addressed, so a key names its bytes forever.

A key is the SHA-256 of the content in hex plus the extension of its type
(``<64 hex>.png``). Identical uploads share one key and one file, and a key's bytes never
change, which lets the media route tell browsers and CDNs to cache them for a year.

``LocalBlobStore`` keeps files under a directory (``<dir>/<first two hex>/<key>``), written to
a temporary file and renamed into place, so a reader never sees half a file. Every replica of a
cluster must see the same directory (a shared volume); ``make_blob_store`` warns otherwise.
``MemoryBlobStore`` is the fake for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

import structlog

from gamekeeper.files import private_folder
from gamekeeper.settings import Settings

__all__ = [
    "EXTENSIONS",
    "BlobStore",
    "LocalBlobStore",
    "MemoryBlobStore",
    "blob_key",
    "content_type_of",
    "make_blob_store",
]

log = structlog.get_logger(__name__)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_CONTENT_TYPES = {extension: content_type for content_type, extension in EXTENSIONS.items()}
_KEY = re.compile(r"([0-9a-f]{64})\.(jpg|png|gif|webp)")


class BlobStore(Protocol):
    async def put(self, data: bytes, *, content_type: str) -> str:
        """Store ``data`` (idempotent for identical content); return its public URL."""
        ...

    async def get(self, key: str) -> tuple[bytes, str] | None:
        """The bytes and content type under ``key``; None if unknown or not a valid key."""
        ...


def blob_key(data: bytes, content_type: str) -> str:
    """The key of ``data``: its SHA-256 in hex and the extension of ``content_type``."""
    try:
        extension = EXTENSIONS[content_type]
    except KeyError:
        raise ValueError(f"no blob extension for content type {content_type!r}") from None
    return f"{hashlib.sha256(data).hexdigest()}.{extension}"


def content_type_of(key: str) -> str | None:
    """The content type a well-formed key stands for; None for anything else."""
    match = _KEY.fullmatch(key)
    return _CONTENT_TYPES[match.group(2)] if match else None


class LocalBlobStore:
    def __init__(self, directory: Path, *, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")

    async def put(self, data: bytes, *, content_type: str) -> str:
        key = await asyncio.to_thread(self._put, data, content_type)
        return f"{self.base_url}/{key}"

    async def get(self, key: str) -> tuple[bytes, str] | None:
        content_type = content_type_of(key)
        if content_type is None:  # also the only guard against path traversal: keep it first
            return None
        try:
            data = await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            return None
        return data, content_type

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def _put(self, data: bytes, content_type: str) -> str:
        key = blob_key(data, content_type)
        path = self._path(key)
        if path.exists():
            return key
        private_folder(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # Kept 0600: they are public through /media, not to other users of the machine.
            os.replace(tmp, path)  # atomic; a concurrent writer of the key wrote the same bytes
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return key


class MemoryBlobStore:
    """A BlobStore in a dict, for tests; same keys and URLs as the local store."""

    def __init__(self, *, base_url: str = "http://media.test") -> None:
        self.base_url = base_url.rstrip("/")
        self.blobs: dict[str, bytes] = {}

    async def put(self, data: bytes, *, content_type: str) -> str:
        key = blob_key(data, content_type)
        self.blobs[key] = data
        return f"{self.base_url}/{key}"

    async def get(self, key: str) -> tuple[bytes, str] | None:
        content_type = content_type_of(key)
        if content_type is None or key not in self.blobs:
            return None
        return self.blobs[key], content_type


def make_blob_store(settings: Settings) -> BlobStore:
    """The blob store ``settings`` name: files under ``blob_path``, served at ``media_base_url``."""
    if not settings.embedded and settings.blob_dir is None:
        log.warning(
            "blobs are stored on this replica's disk; set GAMEKEEPER_BLOB_DIR to a volume "
            "every replica shares",
            blob_dir=str(settings.blob_path),
        )
    return LocalBlobStore(settings.blob_path, base_url=settings.media_base_url)
