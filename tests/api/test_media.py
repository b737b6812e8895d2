"""Uploaded images: the local blob store and ``GET /media/{key}``."""

from __future__ import annotations

import asyncio
import hashlib
import io
import stat
from urllib.parse import urlsplit

import pytest
from PIL import Image

from gamekeeper.infra.blobs import LocalBlobStore, MemoryBlobStore, make_blob_store
from gamekeeper.settings import load_settings

# Media never touches the database: SQLite only, not once per database kind.
pytestmark = [pytest.mark.anyio, pytest.mark.databases("sqlite")]


def png(colour: tuple[int, int, int] = (200, 10, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def stored(client, data: bytes, content_type: str = "image/png") -> str:
    """Store through the app's own blob store; the path the returned URL points at."""
    url = await client.app.state.runtime.blobs.put(data, content_type=content_type)
    return urlsplit(url).path


async def test_a_stored_image_is_served_with_cache_headers(make_client):
    data = png()
    digest = hashlib.sha256(data).hexdigest()
    async with make_client(public_url="https://games.example/") as client:
        url = await client.app.state.runtime.blobs.put(data, content_type="image/png")
        response = await client.get(urlsplit(url).path)
    assert url == f"https://games.example/media/{digest}.png"
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("matching", ['"{}"', 'W/"{}"', '"other", "{}"', "*"])
async def test_if_none_match_answers_304(make_client, matching):
    data = png()
    etag = hashlib.sha256(data).hexdigest()
    async with make_client() as client:
        path = await stored(client, data)
        response = await client.get(path, headers={"If-None-Match": matching.format(etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == f'"{etag}"'
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_a_stale_etag_gets_the_image(make_client):
    async with make_client() as client:
        path = await stored(client, png())
        response = await client.get(path, headers={"If-None-Match": f'"{"0" * 64}"'})
    assert response.status_code == 200
    assert response.content == png()


async def test_identical_content_is_stored_once_under_one_url(make_client, tmp_path):
    async with make_client() as client:
        blobs = client.app.state.runtime.blobs
        first, second = await asyncio.gather(
            blobs.put(png(), content_type="image/png"), blobs.put(png(), content_type="image/png")
        )
        other = await blobs.put(png((0, 0, 255)), content_type="image/png")
        as_gif = await blobs.put(png(), content_type="image/gif")  # the caller's claim, kept apart
    assert first == second
    assert len({first, other, as_gif}) == 3
    files = [p for p in (tmp_path / "data0" / "blobs").rglob("*") if p.is_file()]
    assert sorted(p.name for p in files) == sorted(
        u.rsplit("/", 1)[1] for u in (first, other, as_gif)
    )


@pytest.mark.parametrize(
    "path",
    [
        "/media/..%2f..%2fgamekeeper.db",
        "/media/..%2fsecrets.json",
        "/media/%2e%2e%2f%2e%2e%2fgamekeeper.db",
        "/media/..",
        "/media/{short}.png",
        "/media/{digest}0.png",
        "/media/{upper}.png",
        "/media/{digest}.PNG",
        "/media/{digest}.jpeg",
        "/media/{digest}.svg",
        "/media/{digest}",
        "/media/{digest}.png.png",
        "/media/ab/{digest}.png",
        "/media/{unknown}.png",
        "/media/",
    ],
)
async def test_unknown_or_malformed_keys_are_404(make_client, path):
    data = png()
    digest = hashlib.sha256(data).hexdigest()
    path = path.format(digest=digest, short=digest[:63], upper=digest.upper(), unknown="0" * 64)
    async with make_client() as client:
        await stored(client, data)
        response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "cache-control" not in response.headers


async def test_media_counts_against_the_per_ip_limit(make_client):
    async with make_client(rate_limits={"ip": "2/minute"}) as client:
        path = await stored(client, png())
        statuses = [(await client.get(path)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- the store on its own ---------------------------------------------------------------------


async def test_local_store_writes_whole_private_files_and_nothing_else(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs", base_url="https://cdn.example/m/")
    data = png()
    url = await store.put(data, content_type="image/png")
    key = url.rsplit("/", 1)[1]
    assert url == f"https://cdn.example/m/{key}"
    path = tmp_path / "blobs" / key[:2] / key
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # public through /media only
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == [key]  # no temp
    assert await store.get(key) == (data, "image/png")


async def test_local_store_never_reads_outside_its_directory(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"secret")
    store = LocalBlobStore(tmp_path / "blobs", base_url="http://x")
    for key in ["../secret.png", "/etc/passwd", "", f"{'a' * 64}.png/../../secret.png"]:
        assert await store.get(key) is None
    assert await store.get(f"{'a' * 64}.png") is None  # well formed, never stored


async def test_local_store_refuses_content_types_it_cannot_name(tmp_path):
    store = LocalBlobStore(tmp_path, base_url="http://x")
    with pytest.raises(ValueError, match="image/svg"):
        await store.put(b"<svg/>", content_type="image/svg+xml")


async def test_memory_store_behaves_like_the_local_one(tmp_path):
    local = LocalBlobStore(tmp_path, base_url="http://x/media")
    memory = MemoryBlobStore(base_url="http://x/media")
    data = png()
    url = await local.put(data, content_type="image/png")
    assert await memory.put(data, content_type="image/png") == url
    key = url.rsplit("/", 1)[1]
    assert await memory.get(key) == await local.get(key)
    assert await memory.get(key.upper()) is None


def test_blob_settings_default_under_the_data_dir_and_public_url(tmp_path):
    settings = load_settings(env={}, data_dir=str(tmp_path), public_url="https://gk.example/")
    store = make_blob_store(settings)
    assert isinstance(store, LocalBlobStore)
    assert store.directory == tmp_path / "blobs"
    assert store.base_url == "https://gk.example/media"
    custom = load_settings(
        env={"GAMEKEEPER_BLOB_DIR": "/srv/blobs", "GAMEKEEPER_MEDIA_URL": "https://cdn.example/"}
    )
    assert (custom.blob_path, custom.media_base_url) == (
        load_settings(env={}, blob_dir="/srv/blobs").blob_path,
        "https://cdn.example",
    )
