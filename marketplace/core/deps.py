"""Dependencies shared by every domain's router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from marketplace.core.config import Settings
from marketplace.core.limits import MAX_DB_ID


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def _db_id(description: str):
    return Path(ge=1, le=MAX_DB_ID, description=description)


# Path ids, bounded before they reach the database (a 2^63 id was a 500 from SQLite's integer overflow)
WorkId = Annotated[int, _db_id("a work's id")]
PurchaseId = Annotated[int, _db_id("a purchase's id")]
AccountId = Annotated[int, _db_id("an account's id")]
