"""Dependencies of the page routes: the signed-in account (cookie), a CSRF-checked form, the translator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from marketplace.accounts.dependencies import CookieAccount
from marketplace.web import security
from marketplace.web.i18n import Translator
from marketplace.web.templating import settings_of, translator


async def csrf_form(request: Request) -> FormData:
    """The posted form, after its CSRF token checked out (files are spooled to disk by the parser)."""
    form = await request.form()
    security.verify_csrf(request, settings_of(request), form)
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
Viewer = CookieAccount
TranslatorDep = Annotated[Translator, Depends(translator)]

__all__ = ["CsrfForm", "Request", "TranslatorDep", "Viewer"]
