"""Checks that hold for the whole test session."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def nothing_is_written_into_the_checkout():
    # a command given a relative path by a generated test once wrote a file named "nan" here, and it was committed
    before = set(ROOT.iterdir())
    yield
    new = sorted(p.name for p in set(ROOT.iterdir()) - before if p.name not in {".pytest_cache", ".hypothesis", "site"})
    assert not new, f"the tests wrote {new} into the checkout; write into tmp_path instead"
