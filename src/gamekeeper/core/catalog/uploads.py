"""Game images from a request: a file wins over base64; checked, then stored as blobs.

Blobs are stored before the transaction that references them, never inside it: a blob's key
is the hash of its bytes, so storing the same bytes again is harmless, and a transaction that
then fails leaves at most bytes that nothing references (a retry finds them under their key).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from gamekeeper.core.catalog import images
from gamekeeper.core.catalog.images import ImageInfo


class BlobSink(Protocol):
    """Where image bytes go; ``gamekeeper.infra.blobs`` stores them and gives back a URL.

    Content-addressed and idempotent: the same bytes always get the same URL.
    """

    async def put(self, data: bytes, *, content_type: str) -> str: ...


@dataclass(frozen=True, slots=True)
class ImageInput:
    """One image of a request, as a file upload, a data URI, both or neither."""

    file: bytes | None = None
    data_uri: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedImage:
    data: bytes
    info: ImageInfo


async def check_image(image: ImageInput) -> CheckedImage | None:
    """The image's bytes and what they are, or None if none was given; ImageRejected if bad."""
    if image.file is not None:
        data = image.file
    elif image.data_uri is not None:
        data = images.decode_data_uri(image.data_uri)
    else:
        return None
    # Checking a large image takes a while; the event loop keeps serving meanwhile.
    info = await asyncio.to_thread(images.inspect_image, data)
    return CheckedImage(data, info)


async def store_image(image: CheckedImage | None, blobs: BlobSink) -> str | None:
    """The public URL of the stored image (None for no image)."""
    if image is None:
        return None
    return await blobs.put(image.data, content_type=image.info.content_type)
