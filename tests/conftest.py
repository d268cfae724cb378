"""Shared test helpers: where the real shared data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

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
