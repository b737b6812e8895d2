"""``pip install -e '.[test]'`` resolves without trying boto3 releases one by one (issue 15,
item 20): the test extra names the boto3 window that fits aiobotocore's botocore window."""

from __future__ import annotations

import tomllib
from importlib.metadata import requires, version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def test_extra_pins_boto3_to_the_botocore_window_of_aiobotocore() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test_extra = {r.name: r for r in map(Requirement, project["optional-dependencies"]["test"])}
    assert {"aiobotocore", "boto3"} <= test_extra.keys(), "name both ranges in the test extra"
    assert version("aiobotocore") in test_extra["aiobotocore"].specifier
    [botocore] = [
        r for r in map(Requirement, requires("aiobotocore") or []) if r.name == "botocore"
    ]
    # Each boto3 release needs the botocore of the same number: the two windows are one.
    assert test_extra["boto3"].specifier == botocore.specifier, (
        f"aiobotocore {version('aiobotocore')} needs botocore{botocore.specifier}: "
        f"make the test extra's boto3 range {botocore.specifier} too"
    )
