"""Request and answer bodies of the account-care endpoints (verification, password reset, e-mail and password
changes, sign-out everywhere, notices)."""

from __future__ import annotations

from pydantic import EmailStr, field_validator
from sqlmodel import Field, SQLModel

from marketplace.core.text import Line


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("password must be valid Unicode text (no unpaired surrogates)") from None
    return value


class LinkToken(SQLModel):
    token: Line = Field(min_length=1, max_length=200)  # the `token` of the mailed link


class PasswordResetRequest(SQLModel):
    email: EmailStr


class PasswordResetConfirm(SQLModel):
    token: Line = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=128)

    _password = field_validator("password")(classmethod(lambda cls, v: _encodable(v)))


class EmailChange(SQLModel):
    new_email: EmailStr
    password: str = Field(min_length=1, max_length=128)  # the current password

    _password = field_validator("password")(classmethod(lambda cls, v: _encodable(v)))


class PasswordChange(SQLModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=8, max_length=128)

    _passwords = field_validator("current_password", "new_password")(classmethod(lambda cls, v: _encodable(v)))


class Accepted(SQLModel):
    """The answer of a request that mails something (the same whether or not anything was mailed)."""

    status: str = "accepted"
    detail: str
