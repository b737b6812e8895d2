"""Image checks: data URIs, formats judged by content, size and pixel limits, one message each."""

from __future__ import annotations

import base64
import io
import random
import struct
import warnings
import zlib

import pytest
from PIL import Image

from gamekeeper.core.catalog.images import (
    MAX_BASE64_BYTES,
    MAX_FILE_BYTES,
    MAX_PIXELS,
    ImageInfo,
    ImageRejected,
    MissingImage,
    decode_data_uri,
    inspect_image,
    missing_image,
)
from gamekeeper.core.errors import InvalidInput


def make_image(fmt: str, size: tuple[int, int] = (3, 2), *, frames: int = 1) -> bytes:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    images = [Image.new("RGB", size, colours[i % 3]) for i in range(frames)]
    buffer = io.BytesIO()
    extra = {"save_all": True, "append_images": images[1:]} if frames > 1 else {}
    images[0].save(buffer, fmt, **extra)
    return buffer.getvalue()


def data_uri(data: bytes, declared: str = "png") -> str:
    return f"data:image/{declared};base64,{base64.b64encode(data).decode()}"


def png_claiming(width: int, height: int) -> bytes:
    """A few dozen bytes of PNG whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def rejection(call, *args, **kwargs) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        call(*args, **kwargs)
    return caught.value


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pillow_format", "expected"),
    [("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif"), ("WEBP", "webp")],
)
def test_real_images_are_described_by_their_content(pillow_format, expected):
    info = inspect_image(make_image(pillow_format, (5, 4)))
    assert info == ImageInfo(expected, 5, 4, f"image/{expected}")


@pytest.mark.parametrize("pillow_format", ["GIF", "WEBP"])
def test_animated_images_are_accepted(pillow_format):
    info = inspect_image(make_image(pillow_format, frames=3))
    assert info.format == pillow_format.lower()


@pytest.mark.parametrize("declared", ["jpeg", "jpg", "png", "gif", "webp", "PNG"])
def test_data_uri_round_trip(declared):
    data = make_image("PNG")
    assert decode_data_uri(data_uri(data, declared)) == data


def test_declared_type_does_not_decide_the_format():
    jpeg = make_image("JPEG")
    info = inspect_image(decode_data_uri(data_uri(jpeg, "png")))
    assert (info.format, info.content_type) == ("jpeg", "image/jpeg")


def test_line_wrapped_and_unpadded_base64_is_accepted():
    data = make_image("GIF")
    encoded = base64.encodebytes(data).decode()  # lines of 76 characters
    assert decode_data_uri(f"data:image/gif;base64,{encoded}") == data
    unpadded = base64.b64encode(b"abcd").decode().rstrip("=")
    assert decode_data_uri(f"data:image/gif;base64,{unpadded}") == b"abcd"


def test_limits_are_inclusive():
    exactly = base64.b64encode(b"\0" * MAX_BASE64_BYTES).decode()
    assert len(decode_data_uri(f"data:image/png;base64,{exactly}")) == MAX_BASE64_BYTES
    # Pixel data is never decoded (see the module), so a header is enough to test the bound.
    assert inspect_image(png_claiming(8000, 5000)).width == 8000
    with pytest.raises(ImageRejected, match="dimensions too large"):
        inspect_image(png_claiming(8000, 5001))


# --- refused, each with its own message -------------------------------------------------------

MISSING = "An image is required"
NO_PREFIX = "Invalid image data URI: it must start with data:image/"
NO_SEPARATOR = "Invalid image data URI: the ;base64, separator is missing"
DECLARED = "Unsupported image format 'bmp': use jpeg, jpg, png, gif or webp"
TOO_LARGE = "Image too large: "
BAD_BASE64 = "Invalid base64 format"
NOT_IMAGE = "The image data is not a valid image"
BMP_CONTENT = "Unsupported image format: the content is BMP, not jpeg, jpg, png, gif or webp"
SVG_CONTENT = "Unsupported image format: the content is SVG, not jpeg, jpg, png, gif or webp"
TOO_MANY_PIXELS = f"Image dimensions too large: at most {MAX_PIXELS} pixels"


def cases() -> list[tuple[str, ImageRejected]]:
    png = make_image("PNG")
    encoded = base64.b64encode(png).decode()
    return [
        (MISSING, missing_image()),
        (NO_PREFIX, rejection(decode_data_uri, encoded)),
        (NO_PREFIX, rejection(decode_data_uri, f"data:text/plain;base64,{encoded}")),
        (NO_SEPARATOR, rejection(decode_data_uri, f"data:image/png,{encoded}")),
        (DECLARED, rejection(decode_data_uri, data_uri(png, "bmp"))),
        (TOO_LARGE, rejection(decode_data_uri, data_uri(b"\0" * (MAX_BASE64_BYTES + 1)))),
        (TOO_LARGE, rejection(inspect_image, b"\0" * (MAX_FILE_BYTES + 1))),
        (BAD_BASE64, rejection(decode_data_uri, "data:image/png;base64,iVBOR*w0K")),
        (BAD_BASE64, rejection(decode_data_uri, "data:image/png;base64,abcde")),
        (BAD_BASE64, rejection(decode_data_uri, "data:image/png;base64,ab=cd===")),
        (NOT_IMAGE, rejection(inspect_image, random.Random(7).randbytes(2000))),
        (NOT_IMAGE, rejection(inspect_image, b"")),
        (NOT_IMAGE, rejection(inspect_image, png[:-30])),  # truncated: verify() notices
        (BMP_CONTENT, rejection(inspect_image, decode_data_uri(data_uri(make_image("BMP"))))),
        (SVG_CONTENT, rejection(inspect_image, decode_data_uri(data_uri(SVG)))),
        (TOO_MANY_PIXELS, rejection(inspect_image, png_claiming(7000, 7000))),
    ]


@pytest.mark.parametrize(("expected", "error"), cases(), ids=lambda v: str(v)[:24])
def test_each_refusal_says_why(expected, error):
    assert error.message.startswith(expected)
    assert error.code == "invalid_image"
    assert isinstance(error, InvalidInput)  # rendered as a 400 by every dialect


def test_refusal_messages_are_distinct():
    messages = {expected: error.message for expected, error in cases()}
    assert len(set(messages.values())) == len(messages)


def test_missing_image_is_an_image_rejection():
    assert isinstance(missing_image(), MissingImage)
    assert MissingImage().message == missing_image().message


def test_too_large_names_the_limit():
    base64_error = rejection(decode_data_uri, data_uri(b"\0" * (MAX_BASE64_BYTES + 1)))
    limit = MAX_BASE64_BYTES
    assert base64_error.message == (
        f"Image too large: {limit + 1} bytes; the limit is {limit} bytes (5 MB)"
    )
    file_error = rejection(
        inspect_image, b"\0" * (MAX_BASE64_BYTES + 1), max_bytes=MAX_BASE64_BYTES
    )
    assert file_error.message == base64_error.message
    assert "(10 MB)" in rejection(inspect_image, b"\0" * (MAX_FILE_BYTES + 1)).message


@pytest.mark.parametrize(
    "size",
    [
        (7000, 7000),  # 49 megapixels: over our limit, under Pillow's (~89 M)
        (10_000, 10_000),  # 100 M: Pillow warns
        (100_000, 100_000),  # 10 G: Pillow raises
        (2**31 - 1, 2**31 - 1),
    ],
)
@pytest.mark.parametrize("outer_filter", ["error", "ignore", "default"])
def test_decompression_bombs_are_refused_under_any_warnings_filter(size, outer_filter):
    bomb = png_claiming(*size)
    assert len(bomb) < 100
    with warnings.catch_warnings():
        warnings.simplefilter(outer_filter)
        error = rejection(inspect_image, bomb)
    assert error.message.startswith(TOO_MANY_PIXELS)
