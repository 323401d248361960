"""Shared fixtures: paths, the mini course, and a copy-and-break helper for content tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

# Cheap Argon2 for the suite (thousands of sign-ups and logins): the same algorithm at its lowest
# cost, for this process and every server or CLI it starts. Production keeps the library's defaults
# (tests/services/test_password_hashing.py checks them).
os.environ.setdefault("NETRALITAS_ARGON2_TIME_COST", "1")
os.environ.setdefault("NETRALITAS_ARGON2_MEMORY_KIB", "1024")

from quiz_server.services import credentials  # after the environment it reads

credentials.configure_hasher(time_cost=1, memory_kib=1024)

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
