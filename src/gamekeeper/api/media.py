"""``GET /media/{key}``: the uploaded images, served from the blob store.

Keys are content hashes, so a response never goes stale: browsers and CDNs may keep it for a
year, and the hash is the ETag. The content type comes from the key's extension, which
callers choose from what ``inspect_image`` found in the content; ``nosniff`` keeps a browser
from reading the bytes as anything else.

Media requests count against the per-IP rate limit like every other route: a page of
thumbnails costs one request per image once, after which the browser's cache answers.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from gamekeeper.api.deps import RuntimeDep
from gamekeeper.api.errors import default_envelope, exception_handlers
from gamekeeper.core.errors import NotFound

__all__ = ["serve_media"]

CACHE_CONTROL = "public, max-age=31536000, immutable"


@get(
    "/media/{key:str}",
    exception_handlers=exception_handlers(default_envelope),
    summary="An uploaded image",
    tags=["media"],
)
async def serve_media(
    key: FromPath[str], request: Request[Any, Any, Any], runtime: RuntimeDep
) -> Response[bytes]:
    found = await runtime.blobs.get(key)
    if found is None:
        raise NotFound("No media with that key")
    data, content_type = found
    etag = '"' + key.partition(".")[0] + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, media_type=content_type, headers=headers)
    return Response(data, media_type=content_type, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match requires."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
