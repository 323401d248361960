"""Request bodies of the workshop API and the trainer pages (pydantic; they also feed the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from quiz_server.schemas import Body, Name

ShownId = Annotated[str, StringConstraints(max_length=32)]


class CreateWorkshop(Body):
    title: Name
    date: Annotated[dt.date, Field(strict=False, description="Tanggal lokakarya, TTTT-BB-HH")]
    place: Name
    quiz_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    mode: Literal["live", "self_paced"] = "live"
    opens_at: Annotated[AwareDatetime | None, Field(strict=False, description="ISO 8601 dengan zona waktu")] = None
    closes_at: Annotated[AwareDatetime | None, Field(strict=False, description="ISO 8601 dengan zona waktu")] = None
    question_count: Annotated[int | None, Field(ge=1, le=30)] = None
    leaderboard: bool = False


class JoinWorkshop(Body):
    join_code: Annotated[str, StringConstraints(min_length=1, max_length=20)]


class ControlWorkshop(Body):
    """Optional guard: the ``version`` the trainer's screen showed; a stale screen gets 409 state_changed."""

    version: Annotated[int | None, Field(ge=0)] = None


class LiveAnswerBody(Body):
    question_index: Annotated[int, Field(ge=0, le=100)]
    choices: Annotated[list[ShownId], Field(min_length=1, max_length=10)]
