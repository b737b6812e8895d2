"""The orgRewardsSplit rules, without storage."""

from __future__ import annotations

import pytest

from gamekeeper.core.catalog import errors
from gamekeeper.core.catalog.splits import Identifier, check_split, parse_identifier
from gamekeeper.core.catalog.types import IdentityKind

USER = "550e8400-e29b-41d4-a716-446655440000"
ETH = "0x52908400098527886E0F7030069857D2E4169EE7"
SOL = "9qdvVLY3vLhmvV7uBkLJsQKcHDjxhoUWJ9uZASYEfwwC"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (USER.upper(), Identifier(None, USER)),
        ("did:privy:clz2abc_-9", Identifier(IdentityKind.PRIVY, "did:privy:clz2abc_-9")),
        ("sol:" + SOL, Identifier(IdentityKind.SOLANA, SOL)),
        ("solana:" + SOL, Identifier(IdentityKind.SOLANA, SOL)),
        ("eth:" + ETH, Identifier(IdentityKind.ETHEREUM, ETH.lower())),
        ("ETHEREUM:" + ETH.lower(), Identifier(IdentityKind.ETHEREUM, ETH.lower())),
        ("email:Ada@Example.COM", Identifier(IdentityKind.EMAIL, "ada@example.com")),
        ("twitter:@Space_Racer", Identifier(IdentityKind.TWITTER, "space_racer")),
    ],
)
def test_identifiers_are_parsed_and_normalised(key, expected):
    assert parse_identifier(key) == expected


@pytest.mark.parametrize(
    "key",
    [
        "",
        "someone",
        "550e8400-e29b-41d4-a716-44665544000",  # one digit short
        "did:privy:",
        "sol:" + SOL[:31],  # 31 characters
        "sol:" + "1" * 45,  # 45 characters
        "sol:0" + SOL[1:],  # 0 is not base58
        "eth:" + ETH[:-1],
        "eth:52908400098527886E0F7030069857D2E4169EE7",  # no 0x
        "email:not-an-address",
        "twitter:handle-with-dash",
        "twitter:sixteen_chars_xx",
        "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    ],
)
def test_malformed_identifiers_are_refused(key):
    with pytest.raises(errors.SplitIdentifierInvalid) as raised:
        parse_identifier(key)
    assert "is not a valid identifier" in raised.value.message


def test_a_valid_split_merges_spellings_of_one_identity():
    split = check_split({"eth:" + ETH: 2500, "ethereum:" + ETH.lower(): 2500, USER: 5000})
    assert split == {
        Identifier(IdentityKind.ETHEREUM, ETH.lower()): 5000,
        Identifier(None, USER): 5000,
    }


@pytest.mark.parametrize(
    ("split", "error", "message"),
    [
        ({USER: 9999}, errors.SplitSumTooLow, "it totals 9999, 1 short"),
        (
            {USER: 6000, "eth:" + ETH: 5000},
            errors.SplitSumTooHigh,
            "it totals 11000, 1000 too many",
        ),
        ({USER: 10000.0}, errors.SplitValueNotInteger, "whole numbers of basis points"),
        ({USER: "10000"}, errors.SplitValueNotInteger, "whole numbers of basis points"),
        ({USER: True}, errors.SplitValueNotInteger, "whole numbers of basis points"),
        ({USER: None}, errors.SplitValueNotInteger, "whole numbers of basis points"),
        ({USER: 0, "eth:" + ETH: 10000}, errors.SplitValueNotPositive, "greater than 0"),
        ({USER: 10001, "eth:" + ETH: -1}, errors.SplitValueNotPositive, "greater than 0"),
        ({"nobody": 10000}, errors.SplitIdentifierInvalid, "is not a valid identifier"),
    ],
)
def test_each_rule_has_its_own_error_and_message(split, error, message):
    with pytest.raises(error) as raised:
        check_split(split)
    assert message in raised.value.message
    assert raised.value.code.startswith("rewards_split")


def test_the_errors_are_distinct():
    codes = {
        cls.code
        for cls in (
            errors.SplitSumTooLow,
            errors.SplitSumTooHigh,
            errors.SplitValueNotInteger,
            errors.SplitValueNotPositive,
            errors.SplitIdentifierInvalid,
            errors.SplitUserUnknown,
        )
    }
    assert len(codes) == 6


def test_too_many_recipients():
    split = {f"email:user{i}@example.com": 100 for i in range(101)}
    with pytest.raises(errors.SplitInvalid, match="at most 100"):
        check_split(split)
