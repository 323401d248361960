"""Request bodies as pydantic models, shared by the API (which also documents them) and the pages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RegisterLearner(Body):
    nip: Annotated[str, StringConstraints(max_length=40)]
    nip_kind: Literal["pns", "pppk"] = "pns"
    name: Name
    email: EmailStr
    instansi_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    unit: Name
    password: Annotated[str, StringConstraints(min_length=10, max_length=200)]  # + services/passwords.py


RegistrationId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class VerifyRegistration(Body):
    registration_id: RegistrationId
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]


class ResendCode(Body):
    registration_id: RegistrationId


class TokenRequest(Body):
    nip: Annotated[str, StringConstraints(max_length=40)] | None = None
    username: Annotated[str, StringConstraints(max_length=64)] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


# Credential lifecycle (services/lifecycle.py); the password policy itself is services/passwords.py.
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PasswordChange(Body):
    current_password: Password
    new_password: Password


class PasswordResetRequest(Body):
    nip: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class PasswordResetConfirm(Body):
    token: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    new_password: Password


class AttemptGrantBody(Body):
    quiz_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    extra: Annotated[int, Field(ge=1, le=10)] = 1
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class StartAttempt(Body):
    workshop_id: int | None = None


class SubmitAttempt(Body):
    answers: dict[
        Annotated[str, StringConstraints(max_length=64)],
        Annotated[list[Annotated[str, StringConstraints(max_length=32)]], Field(max_length=10)],
    ] = Field(max_length=200, description="The attempt's own question id -> the shown choice ids picked")
