"""Game images: data URIs decoded, content checked with Pillow. Pure: bytes in, facts out.

The format is judged by the decoded content, never by a file name or a declared type, so a
BMP named ``.png`` or an SVG sent as ``data:image/png`` is refused, and what is stored and
served later is labelled with the type it really has.

Pillow opens the image and ``verify()`` checks its structure (for PNG every chunk checksum);
the pixel data is deliberately not decoded: a 40-megapixel PNG of one colour is a ~100 KB
upload that takes about a second and over 100 MB of memory to decode.

Limits:
- ``MAX_BASE64_BYTES`` (5 MiB, decoded): the OGP documentation's limit for base64 images.
- ``MAX_FILE_BYTES`` (10 MiB): file uploads; OGP only says "typically larger than base64".
- ``MAX_PIXELS`` (40 million, e.g. 8000 x 5000): larger than any game thumbnail or cover needs,
  small enough that a browser decoding it at 4 bytes a pixel stays under 160 MB. It is below
  Pillow's own bomb threshold (~89 million), whose warning and error are translated as well.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from gamekeeper.core.errors import InvalidInput

__all__ = [
    "MAX_BASE64_BYTES",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "ImageInfo",
    "ImageRejected",
    "MissingImage",
    "decode_data_uri",
    "inspect_image",
    "missing_image",
]

MAX_BASE64_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000

DATA_URI_PREFIX = "data:image/"
BASE64_SEPARATOR = ";base64,"
DECLARED_FORMATS = frozenset({"jpeg", "jpg", "png", "gif", "webp"})
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}
# Pillow's format names. The JPEG opener answers MPO for the multi-picture JPEGs many phone
# cameras write; MPO has no opener of its own to list.
_PILLOW_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
_OPENERS = ["JPEG", "PNG", "GIF", "WEBP"]
_ALLOWED = "jpeg, jpg, png, gif or webp"


class ImageRejected(InvalidInput):
    code = "invalid_image"
    message = "The image is not acceptable"


class MissingImage(ImageRejected):
    message = "An image is required: upload an image file or give a base64 image"


def missing_image() -> MissingImage:
    """The error for a request that must carry an image and has none."""
    return MissingImage()


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str  # "jpeg" | "png" | "gif" | "webp": what the content is, whatever it was called
    width: int
    height: int
    content_type: str


def decode_data_uri(value: str, *, max_bytes: int = MAX_BASE64_BYTES) -> bytes:
    """The bytes of a ``data:image/{format};base64,{data}`` URI; the content is not checked."""
    if value[: len(DATA_URI_PREFIX)].lower() != DATA_URI_PREFIX:
        raise ImageRejected(f"Invalid image data URI: it must start with {DATA_URI_PREFIX}")
    head, separator, payload = value.partition(BASE64_SEPARATOR)
    if not separator:
        raise ImageRejected(f"Invalid image data URI: the {BASE64_SEPARATOR} separator is missing")
    declared = head[len(DATA_URI_PREFIX) :].split(";", 1)[0].strip().lower()
    if declared not in DECLARED_FORMATS:
        raise ImageRejected(f"Unsupported image format {declared[:32]!r}: use {_ALLOWED}")
    payload = "".join(payload.split())  # line-wrapped base64 is still base64
    payload += "=" * (-len(payload) % 4)  # so is base64 without its padding
    size = len(payload) // 4 * 3 - payload[-2:].count("=")
    if size > max_bytes:  # before decoding: an oversized image costs no memory
        raise ImageRejected(_too_large(size, max_bytes))
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageRejected("Invalid base64 format: the image data cannot be decoded") from exc


def inspect_image(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> ImageInfo:
    """Check that ``data`` is a jpeg, png, gif or webp image within the limits; describe it."""
    if len(data) > max_bytes:
        raise ImageRejected(_too_large(len(data), max_bytes))
    with (
        _translated_pillow_errors(data),
        Image.open(io.BytesIO(data), formats=_OPENERS) as image,
    ):
        kind = _PILLOW_FORMATS[image.format or ""]
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels()
        image.verify()
    return ImageInfo(kind, width, height, CONTENT_TYPES[kind])


@contextmanager
def _translated_pillow_errors(data: bytes) -> Iterator[None]:
    # Pillow warns above ~89 megapixels and raises above twice that. The warning is made an
    # error here so a bomb is refused the same way under any warnings filter. catch_warnings
    # is process-wide: at worst a race between threads leaves that one warning an error,
    # which this function translates anyway.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except UnidentifiedImageError as exc:
        other = _other_format(data)
        if other is None:
            raise ImageRejected(_NOT_AN_IMAGE) from exc
        raise ImageRejected(
            f"Unsupported image format: the content is {other}, not {_ALLOWED}"
        ) from exc
    except Exception as exc:  # whatever a parser of untrusted bytes raises: not an image
        raise ImageRejected(_NOT_AN_IMAGE) from exc


_NOT_AN_IMAGE = "The image data is not a valid image"


def _other_format(data: bytes) -> str | None:
    """The name of an image format we refuse, if ``data`` is one (None: not an image at all)."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in data[:4096].lower():
        return "SVG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # header only; never decoded
                return image.format or None
    except Exception:
        return None


def _too_large(size: int, limit: int) -> str:
    return f"Image too large: {size} bytes; the limit is {limit} bytes ({limit / 2**20:g} MB)"


def _too_many_pixels() -> ImageRejected:
    return ImageRejected(
        f"Image dimensions too large: at most {MAX_PIXELS} pixels (width x height)"
    )
