"""Shared fixtures: paths, the mini course, and a copy-and-break helper for content tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
CONTENT = ROOT / "content"


@pytest.fixture
def mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the mini course, to break in one place per test."""
    dest = tmp_path / "content"
    shutil.copytree(MINI, dest)
    return dest


def on_exercises_track(source: Path, dest: Path) -> Path:
    """A copy of the course at ``source`` whose certificate also needs the notebook exercises
    (``certification.track: quizzes_and_exercises``): a passed quiz alone then certifies no one."""
    shutil.copytree(source, dest)
    course = yaml.safe_load((dest / "course.yaml").read_text(encoding="utf-8"))
    course["certification"] = {"track": "quizzes_and_exercises"}
    (dest / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest
