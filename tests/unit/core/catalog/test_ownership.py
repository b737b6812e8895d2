"""Finding the x-ogp-key meta tags of a page's head."""

from __future__ import annotations

import pytest

from gamekeeper.core.catalog.ownership import head_keys

KEY = "550e8400-e29b-41d4-a716-446655440000"


@pytest.mark.parametrize(
    "page",
    [
        f'<html><head><meta name="x-ogp-key" content="{KEY}"></head><body></body></html>',
        f"<HTML><HEAD><META NAME='X-OGP-KEY' CONTENT=' {KEY} '/></HEAD></HTML>",
        f'<!doctype html><meta charset="utf-8"><meta name="x-ogp-key" content="{KEY}"><p>hi',
        f'<head><meta content="{KEY}" name="x-ogp-key"><title>A &amp; B</title>',
        f'<head><meta name="x-ogp-key" content="{KEY.replace("-", "&#45;")}"></head>',
    ],
)
def test_the_key_is_found_in_the_head(page):
    assert KEY in head_keys(page.encode())


@pytest.mark.parametrize(
    "page",
    [
        f'<head></head><body><meta name="x-ogp-key" content="{KEY}"></body>',
        f'<head><meta property="x-ogp-key" content="{KEY}"></head>',
        f'<head><!-- <meta name="x-ogp-key" content="{KEY}"> --></head>',
        f'<head><script>"<meta name=\\"x-ogp-key\\" content=\\"{KEY}\\">"</script></head>',
        f'<head><meta name="x-ogp-key-old" content="{KEY}"></head>',
        "",
        "\x00\xff not html at all <<<",
    ],
)
def test_the_key_is_not_found_elsewhere(page):
    assert KEY not in head_keys(page.encode("utf-8", errors="replace"))
