"""Registering and updating games over HTTP: JSON and multipart, images, fields, owners."""

from __future__ import annotations

import json

import pytest

from support.provision import audit_actions

pytestmark = pytest.mark.anyio


async def test_register_with_json_and_read_it_back(ogp, client):
    developer = await ogp.developer()
    game = await ogp.register(
        developer,
        platform="web",
        isHTMLGame=False,
        twitter="https://x.com/space",
        maxScorePerSession=1000,
        maxSessionsPerDay=10,
        maxCumulativePointsPerDay=5000,
        gameCoinSymbol="race",
        jwksUrl="https://space.example/.well-known/jwks.json",
    )
    assert game["name"] == "Space Race"
    assert game["platform"] == "web"
    assert game["isHtmlGame"] is False and game["iframable"] is True and game["hidden"] is False
    assert (game["maxScorePerSession"], game["maxSessionsPerDay"]) == (1000, 10)
    assert game["maxCumulativePointsPerDay"] == 5000
    assert game["gameCoinSymbol"] == "RACE"
    assert game["domain"] == "space.example"
    assert game["creatorId"] == developer["apiKey"] and game["ownerId"] is None
    assert game["ownershipValidated"] is False
    assert game["orgRewardsSplit"] == {developer["apiKey"]: 10000}
    assert game["totalRewardsPoolValueUsd"] == 0 and game["playerCount"] == 0
    assert game["imageUrl"].endswith(".png") and game["coverImage"] is None
    for path in (f"/games/{game['id']}", f"/games/id/{game['id']}"):
        read = await client.get(path)
        assert read.status_code == 200
        assert read.json() == {"data": game, "error": None}
    image = await client.get("/media/" + game["imageUrl"].rsplit("/", 1)[1])
    assert image.content == ogp.image()


async def test_register_with_a_multipart_form_as_the_node_client_sends_it(ogp, client):
    developer = await ogp.developer()
    cover = ogp.image("JPEG", (8, 8), "blue")
    form = {
        "name": "Form Game",
        "description": "Sent as FormData",
        "gameUrl": "https://form.example",
        "platform": "itch",
        "isHtmlGame": "false",
        "iframable": "true",
        "maxScorePerSession": "250",
        "maxSessionsPerDay": "null",  # the client's text for null
        "coverImage": "[object File]",  # and for the file it also sent as a part
        "orgRewardsSplit": json.dumps({developer["apiKey"]: 10000}),
        "tokens": "a,b",  # fields Gamekeeper does not know are ignored
    }
    files = {"image": ("thumb.gif", ogp.image("GIF"), "image/gif"), "coverImage": cover}
    headers = ogp.headers(developer, "POST", "/games")
    response = await client.post("/games", data=form, files=files, headers=headers)
    assert response.status_code == 201, response.text
    game = response.json()["data"]
    assert game["isHtmlGame"] is False and game["iframable"] is True
    assert game["maxScorePerSession"] == 250 and game["maxSessionsPerDay"] is None
    assert game["platform"] == "itch"
    assert game["imageUrl"].endswith(".gif") and game["coverImage"].endswith(".jpg")


async def test_a_file_wins_over_base64(ogp, client):
    developer = await ogp.developer()
    form = {**_form(ogp), "base64Image": ogp.data_uri(ogp.image("PNG"))}
    files = {"image": ("a.webp", ogp.image("WEBP"), "image/webp")}
    response = await client.post(
        "/games", data=form, files=files, headers=ogp.headers(developer, "POST", "/games")
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["imageUrl"].endswith(".webp")


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "An image is required: upload an image file or give a base64 image"),
        ("aGVsbG8=", "Invalid image data URI: it must start with data:image/"),
        ("data:image/png,aGVsbG8=", "Invalid image data URI: the ;base64, separator is missing"),
        ("data:image/bmp;base64,aGVsbG8=", "Unsupported image format 'bmp'"),
        ("data:image/png;base64,@@@@", "Invalid base64 format"),
        ("data:image/png;base64,aGVsbG8=", "The image data is not a valid image"),
    ],
)
async def test_each_bad_image_has_its_own_message(ogp, image, message):
    developer = await ogp.developer()
    fields = ogp.game_fields(base64Image=image)
    response = await ogp.signed(developer, "POST", "/games", json=fields)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert response.json()["error"] == "Bad Request"


async def test_an_image_over_5_mb_of_base64_is_too_large(ogp):
    developer = await ogp.developer()
    big = "data:image/png;base64," + "A" * (7 * 1024 * 1024)
    response = await ogp.signed(developer, "POST", "/games", json=ogp.game_fields(base64Image=big))
    assert response.status_code == 400
    assert response.json()["message"].startswith("Image too large")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": None}, "name is required"),
        ({"description": "  "}, "description must be 1 to 5000 characters"),
        ({"gameUrl": "ftp://x.example"}, "gameUrl must be an absolute http or https URL"),
        ({"platform": "amiga"}, "platform must be one of WEB, DESKTOP, MOBILE, CONSOLE, IOS"),
        ({"maxScorePerSession": 0}, "maxScorePerSession must be a whole number from 1"),
        ({"maxSessionsPerDay": "ten"}, "maxSessionsPerDay: Expected `int | null`, got `str`"),
        ({"gameCoinSymbol": "TOO-LONG-SYMBOL"}, "gameCoinSymbol must be 1 to 10 letters"),
    ],
)
async def test_invalid_fields_have_distinct_messages(ogp, fields, message):
    developer = await ogp.developer()
    body = {k: v for k, v in ogp.game_fields(**fields).items() if v is not None}
    response = await ogp.signed(developer, "POST", "/games", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message), response.json()


async def test_update_by_both_paths_is_partial_and_owner_only(ogp, client):
    owner, other = await ogp.developer(), await ogp.developer("Other")
    game = await ogp.register(owner)
    path = f"/games/update/{game['id']}"
    renamed = await ogp.signed(owner, "POST", path, json={"name": "Space Race 2"})
    assert renamed.status_code == 200
    assert renamed.json()["data"]["name"] == "Space Race 2"
    assert renamed.json()["data"]["description"] == "Race through space"
    sdk_path = f"/games/{game['id']}"
    cover = ogp.data_uri(ogp.image("PNG", colour="green"))
    changes = {
        "platform": "web",
        "maxScorePerSession": None,
        "base64CoverImage": cover,
        "hidden": True,
    }
    updated = await ogp.signed(owner, "POST", sdk_path, json=changes)
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert data["coverImage"].endswith(".png") and data["hidden"] is True
    assert data["imageUrl"] == game["imageUrl"]
    removed = await ogp.signed(owner, "POST", sdk_path, json={"removeCoverImage": True})
    assert removed.json()["data"]["coverImage"] is None
    refused = await ogp.signed(other, "POST", path, json={"name": "Mine now"})
    assert refused.status_code == 403
    assert refused.json() == {
        "statusCode": 403,
        "message": "You do not own this game",
        "error": "Forbidden",
    }
    toggled = await ogp.signed(other, "POST", f"/games/toggle-visibility/{game['id']}")
    assert toggled.status_code == 403
    unknown = "/games/update/00000000-0000-4000-8000-000000000000"
    missing = await ogp.signed(owner, "POST", unknown, json={"name": "x"})
    assert missing.status_code == 404
    actions = [e["action"] for e in await audit_actions(client)]
    assert actions.count("game.updated") == 3


async def test_toggle_visibility_flips_hidden(ogp):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    path = f"/games/toggle-visibility/{game['id']}"
    first = await ogp.signed(developer, "POST", path)
    assert first.status_code == 200 and first.json()["data"]["hidden"] is True
    second = await ogp.signed(developer, "POST", path)
    assert second.json()["data"]["hidden"] is False


async def test_register_requires_a_signature(ogp, client):
    response = await client.post("/games", json=ogp.game_fields())
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def _form(ogp) -> dict:
    return {k: v for k, v in ogp.game_fields().items() if k != "base64Image"}
