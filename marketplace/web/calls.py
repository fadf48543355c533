"""Open calls on the web: the list and a call's page, posting a call, answering with a team (members found by name),
accepting or declining an invitation, the caller's award and payment, and the team's delivery. Every action is the
same service call as its API route."""

from __future__ import annotations

import math
from functools import partial

from anyio import from_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account
from marketplace.calls import service as calls_service
from marketplace.calls.models import Call, CallStatus, MemberStatus, ProposalStatus
from marketplace.calls.schemas import MAX_TEAM, CallFilters
from marketplace.catalog import collaborators
from marketplace.catalog import service as catalog_service
from marketplace.catalog.schemas import CreatorFilters
from marketplace.core.config import DISCIPLINES
from marketplace.core.deps import CallId, ProposalId, RateLimiterDep, SessionDep, client_address
from marketplace.core.exceptions import MarketplaceError
from marketplace.integrations.adapters import AdaptersDep
from marketplace.mail.outbox import Sender
from marketplace.payments import checkout as checkout_flow
from marketplace.web import security
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import call_form, proposal_form, text
from marketplace.web.i18n import Translator
from marketplace.web.templating import redirect, render, settings_of

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 12


@router.get("/calls", response_class=HTMLResponse)
def calls_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    q = request.query_params
    discipline = q.get("discipline") if q.get("discipline") in DISCIPLINES else None
    page = int(q["page"]) if (q.get("page") or "").isdigit() and 0 < int(q["page"]) < 10_000 else 1
    calls, count = calls_service.list_calls(session=session, filters=CallFilters(
        discipline=discipline, page=page, page_size=PAGE_SIZE))
    return render(request, "calls.html", {
        "calls": calls_service.calls_public(session=session, calls=calls), "count": count, "page": page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)), "discipline": discipline or "",
    }, account=viewer)


@router.get("/calls/new", response_class=HTMLResponse)
def new_call_page(request: Request, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/calls/new")
    return render(request, "call_new.html", {"errors": {}, "values": {"disciplines": []}}, account=viewer)


@router.post("/calls", response_class=HTMLResponse)
def post_call(request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer, t: TranslatorDep) -> Response:
    """The "Post a call" form: calls_service.create_call, as POST /api/calls."""
    if viewer is None:
        return redirect(request, "/signin?next=/calls/new")
    values = {k: text(form, k) for k in ("title", "brief", "budget", "deadline")}
    values["disciplines"] = [d for d in form.getlist("disciplines") if isinstance(d, str)]
    call_in, errors = call_form(form, t)
    if call_in is not None:
        try:
            call = calls_service.create_call(session=session, caller=viewer, call_in=call_in)
        except MarketplaceError as exc:
            errors = {"deadline" if "deadline" in exc.message else "form": exc.message}
        else:
            return redirect(request, f"/calls/{call.id}")
    errors = {"form": t.gettext("Please correct the fields marked below."), **errors}
    return render(request, "call_new.html", {"errors": errors, "values": values}, account=viewer, status_code=422)


def _call_context(session, call: Call, viewer: Account | None, t: Translator, *, error: str | None = None) -> dict:
    """Everything a call's page shows to this viewer: the caller's proposals (submitted ones), a member's own and
    their pending answers, what they may do now."""
    public = calls_service.call_public(session=session, call=call)
    proposals = (calls_service.proposals_public(session=session, proposals=calls_service.visible_proposals(
        session=session, call=call, viewer=viewer)) if viewer is not None else [])
    is_caller = viewer is not None and viewer.id == call.caller_id
    awarded_team = [m.user_id for p in proposals if p.id == call.awarded_proposal_id for m in p.team]
    deliverable = (calls_service.deliverable_works(session=session, call=call, viewer=viewer)
                   if viewer is not None and viewer.id in awarded_team else [])
    return {
        "call": public, "proposals": proposals, "is_caller": is_caller, "error": error,
        "past_deadline": calls_service.is_past_deadline(call),
        "may_answer": (calls_service.is_creator(viewer) and not is_caller and call.status == CallStatus.open
                       and not calls_service.is_past_deadline(call)),
        "invited": {p.id for p in proposals if p.status == ProposalStatus.forming
                    for m in p.team if viewer is not None and m.user_id == viewer.id
                    and m.status == MemberStatus.invited},
        "deliverable": deliverable, "on_awarded_team": viewer is not None and viewer.id in awarded_team,
        "work": catalog_service.get_work(session=session, work_id=call.work_id) if call.work_id else None,
    }


def _call_page(request: Request, session, call: Call, viewer, t: Translator, *, error: str | None = None,
               status_code: int = 200) -> HTMLResponse:
    return render(request, "call.html", _call_context(session, call, viewer, t, error=error), account=viewer,
                  status_code=status_code)


def _call_or_404(session, call_id: int) -> Call:
    call = calls_service.get_call(session=session, call_id=call_id)
    if call is None:
        raise HTTPException(404)
    return call


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(call_id: CallId, request: Request, session: SessionDep, viewer: Viewer,
              t: TranslatorDep) -> HTMLResponse:
    return _call_page(request, session, _call_or_404(session, call_id), viewer, t)


def _refused(request: Request, session, call: Call, viewer, t: Translator, exc: MarketplaceError) -> HTMLResponse:
    """The call's page again with what refused the action (its status code; 503 for the back ends)."""
    session.rollback()
    session.refresh(call)
    response = _call_page(request, session, call, viewer, t,
                          error=t.gettext("This could not be done: %(error)s", error=exc.message),
                          status_code=exc.status_code if exc.status_code < 500 else 503)
    response.headers.update(exc.headers or {})
    return response


def _signed_in(request: Request, viewer, call_id: int) -> Response | None:
    return None if viewer is not None else redirect(request, f"/signin?next=/calls/{call_id}")


@router.post("/calls/{call_id}/proposals/{proposal_id}/{action}", response_class=HTMLResponse)
def proposal_action(call_id: CallId, proposal_id: ProposalId, action: str, request: Request, form: CsrfForm,
                    session: SessionDep, viewer: Viewer, t: TranslatorDep) -> Response:
    """Accept, decline (an invited member) or award (the caller) a proposal."""
    if action not in ("accept", "decline", "award"):
        raise HTTPException(404)
    if (signin := _signed_in(request, viewer, call_id)) is not None:
        return signin
    call = _call_or_404(session, call_id)
    try:
        if action == "award":
            calls_service.award(session=session, call=call, proposal_id=proposal_id, caller=viewer,
                                sender=Sender.of(settings_of(request)))
        else:
            calls_service.respond(session=session, call=call, proposal_id=proposal_id, member=viewer,
                                  accept=action == "accept")
    except MarketplaceError as exc:
        return _refused(request, session, call, viewer, t, exc)
    back = text(form, "next")
    return redirect(request, "/studio#invitations" if back == "studio" else f"/calls/{call_id}")


@router.post("/calls/{call_id}/pay", response_class=HTMLResponse)
def pay(call_id: CallId, request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep, viewer: Viewer,
        t: TranslatorDep, limiter: RateLimiterDep) -> Response:
    """The caller pays the budget: to Stripe's hosted checkout (checkout.start_call_checkout, as the API's)."""
    if (signin := _signed_in(request, viewer, call_id)) is not None:
        return signin
    call = _call_or_404(session, call_id)
    try:
        from_thread.run(partial(limiter.hit, "checkout", account=f"account-{viewer.id}",
                                address=client_address(request)))
        purchase = checkout_flow.start_call_checkout(
            session=session, call_id=call.id, buyer=viewer, gateway=services.gateway,
            public_base_url=services.settings.public_base_url,
            expires_minutes=services.settings.checkout_expires_minutes, locale=t.checkout_locale,
            url_secret=services.settings.auth_secret.get_secret_value())
    except checkout_flow.CheckoutCompleted:
        session.rollback()
        return redirect(request, f"/calls/{call_id}")
    except MarketplaceError as exc:
        return _refused(request, session, call, viewer, t, exc)
    return security.finish(request, RedirectResponse(purchase.checkout_url, status_code=303), settings_of(request))


@router.post("/calls/{call_id}/deliver", response_class=HTMLResponse)
def deliver(call_id: CallId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
            t: TranslatorDep) -> Response:
    if (signin := _signed_in(request, viewer, call_id)) is not None:
        return signin
    call = _call_or_404(session, call_id)
    work_id = text(form, "work_id")
    if not work_id.isdigit() or not 0 < int(work_id) < 2**31:
        return _call_page(request, session, call, viewer, t, error=t.gettext("Choose one of the options."),
                          status_code=422)
    try:
        calls_service.deliver(session=session, call=call, member=viewer, work_id=int(work_id))
    except MarketplaceError as exc:
        return _refused(request, session, call, viewer, t, exc)
    return redirect(request, f"/calls/{call_id}")


# ------------------------------------------------------------------------------------------- answer with a team
def _team(session, viewer: Account, raw: str) -> list[Account]:
    """The team being formed: the author first, then the creators added (by id, in the query), each once."""
    team = [viewer]
    for part in raw.split(","):
        if part.strip().isdigit() and len(team) < MAX_TEAM:
            account = accounts_service.get_account(session=session, account_id=min(int(part), 2**31 - 1))
            if calls_service.is_creator(account) and account.id not in {a.id for a in team}:
                team.append(account)
    return team


def _answer_page(request: Request, session, call: Call, viewer: Account, team: list[Account], *,
                 values: dict | None = None, errors: dict | None = None, status_code: int = 200) -> HTMLResponse:
    query = (request.query_params.get("q") or "").strip()[:120]
    members = ",".join(str(a.id) for a in team[1:])
    cards = collaborators.find_creators(session, CreatorFilters(q=query, page_size=10))[0] if query else []
    found = [card for card in cards if card.id not in {m.id for m in team} and card.id != call.caller_id]
    return render(request, "call_answer.html", {
        "call": calls_service.call_public(session=session, call=call), "team": team, "members": members,
        "query": query, "found": found, "values": values or {}, "errors": errors or {},
        "even_share": f"{100 / len(team):.2f}".rstrip("0").rstrip("."),
    }, account=viewer, status_code=status_code)


def _may_answer(request: Request, viewer, call_id: int) -> Response | None:
    if viewer is None:
        return redirect(request, f"/signin?next=/calls/{call_id}/answer")
    if not calls_service.is_creator(viewer):
        raise HTTPException(403)
    return None


@router.get("/calls/{call_id}/answer", response_class=HTMLResponse)
def answer_page(call_id: CallId, request: Request, session: SessionDep, viewer: Viewer) -> Response:
    """Answer with a team: find creators by name (`q`), add them (`members`), give each a share and a role."""
    if (refused := _may_answer(request, viewer, call_id)) is not None:
        return refused
    call = _call_or_404(session, call_id)
    team = _team(session, viewer, request.query_params.get("members") or "")
    return _answer_page(request, session, call, viewer, team)


@router.post("/calls/{call_id}/answer", response_class=HTMLResponse)
def answer(call_id: CallId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
           t: TranslatorDep) -> Response:
    """The team's proposal: calls_service.submit_proposal, as POST /api/calls/{id}/proposals."""
    if (refused := _may_answer(request, viewer, call_id)) is not None:
        return refused
    call = _call_or_404(session, call_id)
    team = _team(session, viewer, text(form, "members"))
    values = {k: text(form, k) for k in ("title", "pitch")}
    values.update({f"{k}_{a.id}": text(form, f"{k}_{a.id}") for a in team for k in ("share", "role")})
    proposal_in, errors = proposal_form(form, t, [a.id for a in team])
    if proposal_in is not None:
        try:
            calls_service.submit_proposal(session=session, call=call, author=viewer, proposal_in=proposal_in)
        except MarketplaceError as exc:
            session.rollback()
            errors = {"form": exc.message}
        else:
            return redirect(request, f"/calls/{call_id}")
    errors = {"form": t.gettext("Please correct the fields marked below."), **errors}
    return _answer_page(request, session, call, viewer, team, values=values, errors=errors, status_code=422)
