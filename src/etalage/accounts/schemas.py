"""Accounts request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
Role = Literal["shopper", "creator", "moderator", "admin"]
MemberRole = Literal["owner", "staff"]
Scope = Literal[
    "profile",
    "shop",
    "events:write",
    "feed:read",
    "content:write",
    "merchant:read",
    "merchant:write",
    "moderation",
    "admin",
]
Locale = Literal["en", "nl", "fr", "de", "es"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(StrictModel):
    email: Email
    password: Password
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    birth_date: date | None = None
    locale: Locale = "en"
    region_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    as_creator: bool = False

    @field_validator("birth_date")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is not None and not (date(1900, 1, 1) <= value <= date.today()):
            raise ValueError("birth date must be between 1900-01-01 and today")
        return value


class LoginIn(StrictModel):
    email: Email
    password: Annotated[str, StringConstraints(max_length=256)]


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    roles: list[str]
    locale: str
    region_code: str | None
    birth_date: date | None
    created_at: datetime


class MembershipOut(BaseModel):
    merchant_id: str
    merchant_name: str
    role: str


class MeOut(UserOut):
    memberships: list[MembershipOut]
    scopes: list[str]


class ProfilePatch(StrictModel):
    display_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None
    ) = None
    locale: Locale | None = None
    region_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    birth_date: date | None = None


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str
    expires_at: datetime


class TokenCreate(StrictModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = "api"
    scopes: list[Scope] | None = Field(None, description="Default: every scope your roles allow.")
    merchant_id: str | None = Field(None, max_length=40, description="Bind the token to one merchant.")
    expires_in_days: int | None = Field(None, ge=1, le=730)


class TokenWithCredentials(TokenCreate):
    email: Email
    password: Annotated[str, StringConstraints(max_length=256)]


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    merchant_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token. Shown once; store it now.")


class OrganisationCreate(StrictModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class OrganisationOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class MemberAdd(StrictModel):
    email: Email
    role: MemberRole = "staff"


class MemberOut(BaseModel):
    user_id: str
    display_name: str
    email: str
    role: str
    created_at: datetime


class RolesSet(StrictModel):
    roles: list[Role] = Field(min_length=1)
