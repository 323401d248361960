"""Shared fixtures: paths, the mini course, and a copy-and-break helper for content tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
CONTENT = ROOT / "content"


@pytest.fixture
def mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the mini course, to break in one place per test."""
    dest = tmp_path / "content"
    shutil.copytree(MINI, dest)
    return dest
