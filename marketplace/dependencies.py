"""Dependencies shared by every domain's router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from marketplace.config import Settings


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
