"""Reading a game from a request: JSON, or a multipart form where every field is a string.

The OGP Node client sends ``FormData``: booleans and numbers as text, ``null`` as the string
``"null"``, and each file field twice (the file, then the text ``[object File]``). Text is
coerced to the declared types; a file part wins over text under the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile

from gamekeeper.api.bodies import field_message, require_json
from gamekeeper.api.dialects.ogp.schemas import GameIn
from gamekeeper.api.edge import decode_json
from gamekeeper.core.catalog.uploads import ImageInput
from gamekeeper.core.errors import InvalidInput

_FILES = ("image", "coverImage")
_NULLS = frozenset({"null", "undefined"})


@dataclass(frozen=True, slots=True)
class GameForm:
    fields: dict[str, Any]
    image: ImageInput
    cover: ImageInput


async def read_game(request: Request[Any, Any, Any]) -> GameForm:
    """The listing fields and images of a register or update request."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    files: dict[str, bytes] = {}
    if media_type == "multipart/form-data":
        raw, files = await _multipart(request)
        body = _convert(raw, strict=False)
    else:
        require_json(request)  # the edge checked the JSON body's depth, text and numbers
        try:
            decoded = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            raise InvalidInput("The request body is not valid JSON", code="invalid_body") from None
        body = _convert(decoded, strict=True)
    return GameForm(
        fields=body.fields(),
        image=ImageInput(files.get("image"), _given(body.base64_image)),
        cover=ImageInput(files.get("coverImage"), _given(body.base64_cover_image)),
    )


async def _multipart(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    form = await request.form()
    raw: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name in _FILES and name not in files:
                files[name] = await value.read()  # the route's body limit bounds it
            continue
        if name in _FILES:
            continue  # "[object File]": the client's text copy of the file field
        raw[name] = None if value.strip().lower() in _NULLS else value
    split = raw.get("orgRewardsSplit")
    if isinstance(split, str):
        try:
            raw["orgRewardsSplit"] = decode_json(split) if split.strip() else None
        except InvalidInput as exc:  # nested too deep, a NUL, a number beyond 64 bits
            raise InvalidInput(f"orgRewardsSplit: {exc.message}", code=exc.code) from None
        except msgspec.DecodeError:
            raise InvalidInput(
                "orgRewardsSplit must be a JSON object of {identifier: basis points}",
                code="invalid_rewards_split",
            ) from None
    return raw, files


def _convert(raw: Any, *, strict: bool) -> GameIn:
    if not isinstance(raw, dict):
        raise InvalidInput("The request body must be an object", code="invalid_body")
    try:
        return msgspec.convert(raw, GameIn, strict=strict)
    except msgspec.ValidationError as exc:
        raise InvalidInput(field_message(exc), code="invalid_body") from None


def _given(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
