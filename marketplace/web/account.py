"""The account pages: forgotten password and its reset form, the links mailed to verify an e-mail or confirm a new
one, the account settings (verification, e-mail, password, sign-out everywhere) and the notices. The same services
as the API (marketplace.accounts.lifecycle)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from eth_utils import is_address
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from marketplace.accounts import lifecycle, own_wallets
from marketplace.accounts.dependencies import PasswordHashingDep
from marketplace.accounts.models import Account
from marketplace.core.db import session_scope
from marketplace.core.deps import RateLimiterDep, SessionDep, client_address
from marketplace.core.exceptions import BadRequest, Conflict, MarketplaceError, ServerBusy, TooManyRequests
from marketplace.integrations.adapters import AdaptersDep
from marketplace.provenance import service as provenance_service
from marketplace.web import security
from marketplace.web.auth import _refused
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import text
from marketplace.web.templating import redirect, render, settings_of

router = APIRouter(include_in_schema=False)
MIN_PASSWORD, MAX_PASSWORD = 8, 128


def _password(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _password_error(t, password: str) -> str | None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return t.gettext("The password must have between 8 and 128 characters.")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return t.gettext("Please correct the fields marked below.")
    return None


def _email(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _with_headers(response: Response, exc: TooManyRequests | ServerBusy) -> Response:
    response.headers.update(exc.headers or {})
    return response


# -------------------------------------------------------------------------------------------- forgotten password

@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "forgot_password.html", {"values": {}, "errors": {}, "sent": False}, account=viewer)


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot_password(request: Request, form: CsrfForm, t: TranslatorDep, limiter: RateLimiterDep,
                          viewer: Viewer) -> Response:
    """The same answer whether or not an account has the e-mail (a link is mailed only when one has)."""
    email = text(form, "email")
    normalised = _email(email)
    if normalised is None:
        return render(request, "forgot_password.html", {
            "values": {"email": email}, "sent": False,
            "errors": {"email": t.gettext("Please enter a valid e-mail address.")}}, account=viewer, status_code=400)
    try:
        await lifecycle.request_password_reset(email=normalised, settings=settings_of(request),
                                               address=client_address(request), limiter=limiter)
    except (TooManyRequests, ServerBusy) as exc:
        return _with_headers(render(request, "forgot_password.html", {
            "values": {"email": email}, "sent": False, "errors": {"form": _refused(t, exc)}},
            account=viewer, status_code=exc.status_code), exc)
    return render(request, "forgot_password.html", {"values": {}, "errors": {}, "sent": True}, account=viewer)


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    token = request.query_params.get("token", "")[:200]
    valid = lifecycle.reset_link_is_valid(session, token=token)
    return render(request, "reset_password.html", {"token": token, "valid": valid, "errors": {}}, account=viewer,
                  status_code=200 if valid else 400)


@router.post("/reset-password", response_class=HTMLResponse)
async def reset_password(request: Request, form: CsrfForm, t: TranslatorDep, hashing: PasswordHashingDep,
                         viewer: Viewer) -> Response:
    token = text(form, "token")[:200]
    password = _password(form, "password")
    error = _password_error(t, password)
    if error is None and password != _password(form, "password_again"):
        error = t.gettext("The two passwords differ.")
    if error is not None:
        return render(request, "reset_password.html", {"token": token, "valid": True,
                                                       "errors": {"password": error}}, account=viewer,
                      status_code=400)
    try:
        await lifecycle.reset_password(token=token, password=password, hashing=hashing)
    except BadRequest:
        return render(request, "reset_password.html", {"token": token, "valid": False, "errors": {}},
                      account=viewer, status_code=400)
    except ServerBusy as exc:
        return _with_headers(render(request, "reset_password.html", {
            "token": token, "valid": True, "errors": {"form": _refused(t, exc)}}, account=viewer,
            status_code=exc.status_code), exc)
    response = redirect(request, "/signin?m=password_reset")
    security.clear_session_cookie(response, settings_of(request))  # that session is signed out now anyway
    return response


# -------------------------------------------------------------------------------------------- mailed links

@router.get("/verify-email", response_class=HTMLResponse)
def verify_email_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    try:
        lifecycle.verify_email(session, token=request.query_params.get("token", "")[:200])
    except BadRequest:
        return render(request, "link_result.html", {"outcome": "invalid"}, account=viewer, status_code=400)
    return render(request, "link_result.html", {"outcome": "verified"}, account=viewer)


@router.get("/confirm-email", response_class=HTMLResponse)
def confirm_email_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    try:
        account = lifecycle.confirm_email_change(session, token=request.query_params.get("token", "")[:200],
                                                 settings=settings_of(request))
    except BadRequest:
        return render(request, "link_result.html", {"outcome": "invalid"}, account=viewer, status_code=400)
    except Conflict:
        return render(request, "link_result.html", {"outcome": "taken"}, account=viewer, status_code=409)
    return render(request, "link_result.html", {"outcome": "email_changed", "email": account.email}, account=viewer)


# -------------------------------------------------------------------------------------------- account settings

ACTIVITY_SHOWN = 10  # the latest entries of the account's chain activity on its page (GET /api/me/activity: all)


def _account_page(request: Request, viewer: Account, *, status_code: int = 200, **context) -> HTMLResponse:
    with session_scope() as session:
        activity, activity_count = provenance_service.account_activity(session, viewer, page=1,
                                                                       page_size=ACTIVITY_SHOWN)
        linked = own_wallets.linked_wallets(session=session, account_id=viewer.id)
    values = {"errors": {}, "values": {}, "message": request.query_params.get("m"), "activity": activity,
              "activity_count": activity_count, "linked_wallets": linked, **context}
    return render(request, "account.html", values, account=viewer, status_code=status_code)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    return _account_page(request, viewer)


@router.post("/account/verification", response_class=HTMLResponse)
async def resend_verification(request: Request, form: CsrfForm, t: TranslatorDep, limiter: RateLimiterDep,
                              viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    try:
        await lifecycle.resend_verification(account_id=viewer.id, settings=settings_of(request),
                                            address=client_address(request), limiter=limiter)
    except (TooManyRequests, ServerBusy) as exc:
        return _with_headers(_account_page(request, viewer, errors={"verify": _refused(t, exc)},
                                           status_code=exc.status_code), exc)
    return redirect(request, "/account?m=verification_sent")


@router.post("/account/email", response_class=HTMLResponse)
async def change_email(request: Request, form: CsrfForm, t: TranslatorDep, limiter: RateLimiterDep,
                       hashing: PasswordHashingDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    typed = text(form, "new_email")
    new_email = _email(typed)
    values = {"new_email": typed}
    if new_email is None:
        return _account_page(request, viewer, values=values, status_code=400,
                             errors={"new_email": t.gettext("Please enter a valid e-mail address.")})
    try:
        await lifecycle.request_email_change(account_id=viewer.id, new_email=new_email,
                                             password=_password(form, "password")[:MAX_PASSWORD],
                                             settings=settings_of(request), address=client_address(request),
                                             limiter=limiter, hashing=hashing)
    except BadRequest:
        return _account_page(request, viewer, values=values, status_code=400,
                             errors={"email_password": t.gettext("The password is not correct.")})
    except Conflict:
        return _account_page(request, viewer, values=values, status_code=409,
                             errors={"new_email": t.gettext("An account with this e-mail already exists.")})
    except (TooManyRequests, ServerBusy) as exc:
        return _with_headers(_account_page(request, viewer, values=values, errors={"email_form": _refused(t, exc)},
                                           status_code=exc.status_code), exc)
    return redirect(request, "/account?m=email_link_sent")


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, form: CsrfForm, t: TranslatorDep, hashing: PasswordHashingDep,
                          viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    new_password = _password(form, "new_password")
    error = _password_error(t, new_password)
    if error is not None:
        return _account_page(request, viewer, errors={"new_password": error}, status_code=400)
    try:
        fresh = await lifecycle.change_password(account_id=viewer.id,
                                                current_password=_password(form, "current_password")[:MAX_PASSWORD],
                                                new_password=new_password, hashing=hashing)
    except BadRequest:
        return _account_page(request, viewer, status_code=400,
                             errors={"current_password": t.gettext("The current password is not correct.")})
    except ServerBusy as exc:
        return _with_headers(_account_page(request, viewer, errors={"password_form": _refused(t, exc)},
                                           status_code=exc.status_code), exc)
    settings = settings_of(request)
    response = redirect(request, "/account?m=password_changed")
    security.set_session_cookie(response, settings, lifecycle.access_token(fresh, settings))  # this browser stays
    return response


@router.post("/account/signout-everywhere")
def signout_everywhere(request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is not None:
        lifecycle.sign_out_everywhere(session, account_id=viewer.id)
    response = redirect(request, "/signin?m=signed_out_everywhere")
    security.clear_session_cookie(response, settings_of(request))
    return response


# -------------------------------------------------------------------------------------------- notices

@router.get("/notices", response_class=HTMLResponse)
def notices_page(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/notices")
    listing = lifecycle.notice_list(session, account_id=viewer.id, limit=100)
    return render(request, "notices.html", {"listing": listing}, account=viewer)


@router.post("/notices/read")
def read_notices(request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/notices")
    lifecycle.mark_notices_read(session, account_id=viewer.id)
    return redirect(request, "/notices")


# ------------------------------------------------------------------------ own wallets (Connect a wallet, SIWE)
SIWE_STATEMENT = "Link this wallet to my account on the Creative Marketplace."


@router.post("/account/wallets/message")
def wallet_message(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                   viewer: Viewer) -> Response:
    """The EIP-4361 message the page's script asks the browser's wallet to sign for the address it chose: a fresh
    nonce of the viewer's, this site's domain, origin and chain id (JSON `{message}`)."""
    if viewer is None:
        return JSONResponse({"detail": "Sign in required"}, status_code=401)
    address = text(form, "address")
    if not is_address(address):
        return JSONResponse({"detail": "Not an Ethereum address"}, status_code=422)
    try:
        expected = own_wallets.expected_for(services.settings, services.chain)
    except MarketplaceError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    nonce = own_wallets.issue_nonce(session=session, account_id=viewer.id,
                                    minutes=services.settings.siwe_nonce_minutes)
    return JSONResponse({"message": own_wallets.message_for(address=address, nonce=nonce, expected=expected,
                                                            statement=SIWE_STATEMENT)})


@router.post("/account/wallets", response_class=HTMLResponse)
def link_wallet(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep, viewer: Viewer,
                t: TranslatorDep) -> Response:
    """Link the wallet that signed the message (own_wallets.link_wallet, as POST /api/me/wallets); back to the
    account page, or the account page with the reason."""
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    try:
        # a form post turns every line break into CRLF (HTML's form encoding); the wallet signed LF lines
        message = str(form.get("message") or "").replace("\r\n", "\n")
        own_wallets.link_wallet(session=session, account=viewer, message=message,
                                signature=text(form, "signature"),
                                expected=own_wallets.expected_for(services.settings, services.chain),
                                chain=services.chain)
    except MarketplaceError as exc:
        session.rollback()
        return _account_page(request, viewer, status_code=exc.status_code if exc.status_code < 500 else 503,
                             errors={"wallet": t.gettext("The wallet could not be linked: %(error)s",
                                                         error=exc.message)})
    return redirect(request, "/account?m=wallet_linked#wallets")


@router.post("/account/wallets/unlink", response_class=HTMLResponse)
def unlink_wallet(request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                  t: TranslatorDep) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    try:
        own_wallets.unlink_wallet(session=session, account=viewer, address=text(form, "address"))
    except MarketplaceError as exc:
        session.rollback()
        return _account_page(request, viewer, status_code=exc.status_code,
                             errors={"wallet": t.gettext("The wallet could not be unlinked: %(error)s",
                                                         error=exc.message)})
    return redirect(request, "/account?m=wallet_unlinked#wallets")
