"""Sign up, sign in, sign out: cookie sessions for the pages (the API keeps bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from marketplace.accounts import lifecycle
from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import SESSION_COOKIE, PasswordHashingDep
from marketplace.accounts.models import Account, Role
from marketplace.core.deps import RateLimiterDep, SessionDep, client_address
from marketplace.core.exceptions import Conflict, ServerBusy, TooManyRequests, Unauthorized
from marketplace.web import security
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import signup_form, text
from marketplace.web.templating import redirect, render, safe_next, settings_of

router = APIRouter(include_in_schema=False)


def _signed_in(request: Request, account: Account, next_url: str | None) -> Response:
    settings = settings_of(request)
    token = lifecycle.access_token(account, settings)
    default = "/studio" if account.role in (Role.creator, Role.admin) else "/"
    response = redirect(request, safe_next(next_url, default))
    security.set_session_cookie(response, settings, token)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "signin.html", {"next": safe_next(request.query_params.get("next"), ""),
                                           "values": {}, "errors": {},
                                           "notice": request.query_params.get("m")}, account=viewer)


def _refused(t, exc: TooManyRequests | ServerBusy) -> str:
    if isinstance(exc, TooManyRequests):
        return t.gettext("Too many attempts. Please wait %(seconds)s s and try again.", seconds=exc.retry_after)
    return t.gettext("The server is busy right now; nothing was saved. Please try again in a moment.")


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, form: CsrfForm, t: TranslatorDep, limiter: RateLimiterDep,
                 hashing: PasswordHashingDep) -> Response:
    """The same service as POST /api/auth/token (limits, slowed failures); refusals show the form again."""
    email, password = text(form, "email"), form.get("password") if isinstance(form.get("password"), str) else ""
    next_url = safe_next(text(form, "next"), "")
    context = {"next": next_url, "values": {"email": email}}
    try:
        account = await accounts_service.sign_in(email=email, password=password, address=client_address(request),
                                                 limiter=limiter, hashing=hashing)
    except Unauthorized:
        errors = {"form": t.gettext("Incorrect e-mail or password.")}
        return render(request, "signin.html", {**context, "errors": errors}, status_code=400)
    except (TooManyRequests, ServerBusy) as exc:
        response = render(request, "signin.html", {**context, "errors": {"form": _refused(t, exc)}},
                          status_code=exc.status_code)
        response.headers.update(exc.headers or {})
        return response
    return _signed_in(request, account, next_url)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, viewer: Viewer) -> HTMLResponse:
    role = request.query_params.get("role")
    return render(request, "signup.html", {"next": safe_next(request.query_params.get("next"), ""),
                                           "values": {"role": role if role in ("creator", "buyer") else "buyer"},
                                           "errors": {}}, account=viewer)


@router.post("/signup", response_class=HTMLResponse)
async def signup(request: Request, form: CsrfForm, t: TranslatorDep, limiter: RateLimiterDep,
                 hashing: PasswordHashingDep) -> Response:
    """The same service as POST /api/auth/register (limits, hashing pool); refusals show the form again."""
    values = {k: text(form, k) for k in ("email", "display_name", "role")}
    next_url = safe_next(text(form, "next"), "")
    account_in, errors = signup_form(form, t)
    status_code, headers, message = 400, {}, t.gettext("Please correct the fields marked below.")
    if account_in is not None:
        try:
            account_in.language = t.lang  # the page's language is the account's mails' language
            account = await lifecycle.sign_up(account_in=account_in, settings=settings_of(request),
                                              address=client_address(request), limiter=limiter, hashing=hashing)
        except Conflict:
            errors = {"email": t.gettext("An account with this e-mail already exists.")}
        except (TooManyRequests, ServerBusy) as exc:
            status_code, headers, message = exc.status_code, exc.headers or {}, _refused(t, exc)
        else:
            return _signed_in(request, account, next_url)
    response = render(request, "signup.html", {"next": next_url, "values": values,
                                               "errors": {"form": message, **errors}}, status_code=status_code)
    response.headers.update(headers)
    return response


@router.post("/signout")
def signout(request: Request, form: CsrfForm, session: SessionDep) -> Response:
    """Revoke this browser's session token (a copy of the cookie stops working too) and drop the cookie."""
    accounts_service.sign_out(session=session, token=request.cookies.get(SESSION_COOKIE),
                              secret=settings_of(request).auth_secret.get_secret_value())
    response = redirect(request, "/signin?m=signed_out")
    security.clear_session_cookie(response, settings_of(request))
    return response
