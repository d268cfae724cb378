"""Shared test setup: where the real shared data lives; the property tests' profile in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# In CI the property tests draw the same examples every run (a landing must not depend on
# luck); run them locally, where CI is not set, to keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path in ../shared/data; fails (never skips) when the data is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"shared data not found: {path}. Clone the project next to its 'shared' folder "
            "(../shared/data, see the README).",
            pytrace=False,
        )
    return path
