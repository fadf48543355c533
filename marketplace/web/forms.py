"""Form fields from the pages -> validated inputs, or messages per field in the visitor's language.

The same limits as the API schemas (WorkCreate, AccountCreate); the browser checks the simple ones first
(required, min/max, accept), the server always checks everything.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from starlette.datastructures import FormData, UploadFile

from marketplace.accounts.models import AccountCreate, Role
from marketplace.calls.schemas import CallCreate, ProposalCreate, TeamMemberIn
from marketplace.catalog.collaborators import CollaboratorsRefused, CreatorsPending
from marketplace.catalog.schemas import CollaboratorIn, WorkCreate
from marketplace.core.config import DISCIPLINES, LICENSES
from marketplace.core.limits import (
    MAX_COLLABORATORS,
    MAX_DB_ID,
    MAX_DESCRIPTION_CHARS,
    MAX_DISPLAY_NAME_CHARS,
    MAX_EDITION_SIZE,
    MAX_PRICE_CENTS,
    MAX_ROLE_CHARS,
    MAX_ROYALTY_BPS,
    MAX_TITLE_CHARS,
)
from marketplace.core.money import BPS_WHOLE
from marketplace.core.text import refused_character
from marketplace.exhibitions.models import MAX_PLACE_CHARS, MAX_SLUG_CHARS, EventKind
from marketplace.exhibitions.schemas import RESERVED_SLUGS, SLUG, ExhibitionCreate, ExhibitionUpdate
from marketplace.web.i18n import Translator

_AMOUNT = re.compile(r"^\d{1,9}([.,]\d{1,2})?$")


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_euros(raw: str) -> int | None:
    """'25', '25.5', '25,50', '1 000' -> cents; None when it is not an amount."""
    raw = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not _AMOUNT.match(raw):
        return None
    try:
        return int(Decimal(raw.replace(",", ".")) * 100)
    except InvalidOperation:
        return None


def parse_percent_bps(raw: str) -> int | None:
    raw = raw.replace("%", "").replace(" ", "").replace(",", ".") or "0"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    bps = value * 100
    if bps != bps.to_integral_value() or not 0 <= bps <= MAX_ROYALTY_BPS:
        return None
    return int(bps)


def parse_edition_size(raw: str) -> int | None:
    """How many editions, as typed ('' -> 1, a unique work); None unless a whole number 1..MAX_EDITION_SIZE."""
    raw = raw.replace(" ", "") or "1"
    if not raw.isdigit() or len(raw) > 4 or not 1 <= int(raw) <= MAX_EDITION_SIZE:
        return None
    return int(raw)


def parse_share_bps(raw: str) -> int | None:
    """A share typed in percent ('50', '33.33', '33,33 %') -> basis points (1..10,000); None otherwise."""
    raw = raw.replace("%", "").replace(" ", "").replace("\u202f", "").replace("\u00a0", "").replace(",", ".")
    try:
        bps = Decimal(raw) * 100
    except InvalidOperation:
        return None
    if not bps.is_finite() or bps != bps.to_integral_value() or not 0 < bps <= BPS_WHOLE:
        return None
    return int(bps)


def price_error(t: Translator, raw: str) -> tuple[int | None, str | None]:
    if not raw:
        return None, t.gettext("Please fill in this field.")
    cents = parse_euros(raw)
    if cents is None:
        return None, t.gettext("Enter a price in euros, e.g. 25 or 25.50.")
    if not 0 < cents <= MAX_PRICE_CENTS:
        return None, t.gettext("The price must be between €0.01 and €1,000,000.")
    return cents, None


def work_form(form: FormData, t: Translator) -> tuple[WorkCreate | None, UploadFile | None, dict[str, str]]:
    errors: dict[str, str] = {}
    title = text(form, "title")
    description = text(form, "description")
    discipline = text(form, "discipline")
    license_ = text(form, "license")
    if not title:
        errors["title"] = t.gettext("Please fill in this field.")
    elif len(title) > MAX_TITLE_CHARS:
        errors["title"] = t.gettext("At most %(max)s characters.", max=MAX_TITLE_CHARS)
    elif bad := refused_character(title):
        errors["title"] = t.gettext("This text contains a character that is not allowed (%(what)s).", what=bad)
    if len(description) > MAX_DESCRIPTION_CHARS:
        errors["description"] = t.gettext("At most %(max)s characters.", max=MAX_DESCRIPTION_CHARS)
    elif bad := refused_character(description.replace("\r", ""), multiline=True):
        errors["description"] = t.gettext("This text contains a character that is not allowed (%(what)s).", what=bad)
    if discipline not in DISCIPLINES:
        errors["discipline"] = t.gettext("Choose one of the options.")
    if license_ not in LICENSES:
        errors["license"] = t.gettext("Choose one of the options.")
    price_cents, message = price_error(t, text(form, "price"))
    if message:
        errors["price"] = message
    royalty_bps = parse_percent_bps(text(form, "royalty"))
    if royalty_bps is None:
        errors["royalty"] = t.gettext("Enter a royalty between 0 and 25 %%.")
    edition_size = parse_edition_size(text(form, "edition_size"))
    if edition_size is None:
        errors["edition_size"] = t.gettext("Enter a whole number of editions between 1 and %(max)s.",
                                           max=MAX_EDITION_SIZE)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename or upload.size == 0:
        errors["file"] = t.gettext("Choose a file to upload.")
        upload = None
    if errors:
        return None, upload, errors
    work_in = WorkCreate(title=title, description=description, discipline=discipline, price_cents=price_cents,
                         currency="EUR", royalty_bps=royalty_bps, license=license_, edition_size=edition_size)
    return work_in, upload, {}


def cover_file(form: FormData) -> UploadFile | None:
    """The optional cover image of an audio or video work; None when the field is absent or left empty."""
    cover = form.get("cover")
    if not isinstance(cover, UploadFile) or (not cover.filename and not cover.size):
        return None
    return cover


def signup_form(form: FormData, t: Translator) -> tuple[AccountCreate | None, dict[str, str]]:
    errors: dict[str, str] = {}
    email = text(form, "email")
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    name = text(form, "display_name")
    role = text(form, "role") or Role.buyer.value
    if not email:
        errors["email"] = t.gettext("Please fill in this field.")
    else:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = t.gettext("Enter a valid e-mail address.")
    if len(password) < 8:
        errors["password"] = (t.gettext("The password needs at least 8 characters.") if password
                              else t.gettext("Please fill in this field."))
    elif len(password) > 128:
        errors["password"] = t.gettext("At most %(max)s characters.", max=128)
    if not name:
        errors["display_name"] = t.gettext("Please fill in this field.")
    elif len(name) > MAX_DISPLAY_NAME_CHARS:
        errors["display_name"] = t.gettext("At most %(max)s characters.", max=MAX_DISPLAY_NAME_CHARS)
    elif bad := refused_character(name):
        errors["display_name"] = t.gettext("This text contains a character that is not allowed (%(what)s).", what=bad)
    if role not in (Role.buyer.value, Role.creator.value):
        errors["role"] = t.gettext("Choose one of the options.")
    if errors:
        return None, errors
    return AccountCreate(email=email, password=password, display_name=name, role=Role(role)), {}


def crew_form(form: FormData, t: Translator) -> tuple[list[CollaboratorIn] | None, list[dict], dict]:
    """The studio's list of a work's creators (the fields `user_id`, `name`, `share` in percent and `role`, one of
    each per creator, in order) -> the entries, the rows as typed (to show them again) and the messages: `form`,
    and `rows` {index: {"share" | "role" | "user": message}}. The service checks the rest (crew_refusal)."""
    ids, names, shares, roles = (form.getlist(k) for k in ("user_id", "name", "share", "role"))
    typed = [{"user_id": str(i).strip(), "name": str(n).strip(), "share": str(s).strip(), "role": str(r).strip()}
             for i, n, s, r in zip(ids, names, shares, roles, strict=False)]
    rows: dict[int, dict[str, str]] = {}
    entries = []
    for index, row in enumerate(typed):
        problems: dict[str, str] = {}
        user_id = int(row["user_id"]) if row["user_id"].isdigit() and 0 < int(row["user_id"]) <= MAX_DB_ID else None
        if user_id is None:
            problems["user"] = t.gettext("Choose a creator with the search below.")
        bps = parse_share_bps(row["share"])
        if bps is None:
            problems["share"] = t.gettext("Enter a share above 0 and at most 100 %%, e.g. 50 or 33.33.")
        if not row["role"]:
            problems["role"] = t.gettext("Say what this creator does, e.g. composer.")
        elif len(row["role"]) > MAX_ROLE_CHARS:
            problems["role"] = t.gettext("At most %(max)s characters.", max=MAX_ROLE_CHARS)
        elif bad := refused_character(row["role"]):
            problems["role"] = t.gettext("This text contains a character that is not allowed (%(what)s).", what=bad)
        if problems:
            rows[index] = problems
        else:
            entries.append(CollaboratorIn(user_id=user_id, share_bps=bps, role=row["role"]))
    errors: dict = {"rows": rows} if rows else {}
    if not typed or len(typed) > MAX_COLLABORATORS:
        errors["form"] = t.gettext("A work has between 1 and %(max)s creators.", max=MAX_COLLABORATORS)
    elif rows:
        errors["form"] = t.gettext("Please correct the fields marked below.")
    return (None if errors else entries), typed, errors


def crew_refusal(exc: CollaboratorsRefused, t: Translator, typed: list[dict]) -> dict:
    """The service's refusal of a list of creators, in the reader's language, next to the field it is about."""
    name = typed[exc.index]["name"] if exc.index is not None and exc.index < len(typed) else ""
    messages = {
        "sum": t.gettext("The shares must add up to 100 %%."),
        "uploader_missing": t.gettext("The list must include you, the uploader."),
        "duplicate": t.gettext("%(name)s is in the list twice.", name=name),
        "unknown_user": t.gettext("This creator does not exist."),
        "not_creator": t.gettext("%(name)s is not a creator account: only creators can co-sign a work.", name=name),
    }
    message = messages.get(exc.reason, exc.message)
    if exc.index is None:
        return {"form": message}
    return {"form": t.gettext("Please correct the fields marked below."), "rows": {exc.index: {"user": message}}}


def pending_message(exc: CreatorsPending, t: Translator) -> str:
    """Why a co-created work cannot be minted yet, in the reader's language."""
    if exc.declined:
        return t.gettext("%(names)s declined to co-sign this work: change its creators before minting it.",
                         names=", ".join(exc.declined))
    return t.gettext("Waiting for %(names)s to accept: the work is minted once every creator accepted.",
                     names=", ".join(exc.invited))


def _line_error(t: Translator, value: str, max_chars: int, *, multiline: bool = False) -> str | None:
    """The message for a required text field, or None when it is fine."""
    if not value:
        return t.gettext("Please fill in this field.")
    if len(value) > max_chars:
        return t.gettext("At most %(max)s characters.", max=max_chars)
    if bad := refused_character(value.replace("\r", "") if multiline else value, multiline=multiline):
        return t.gettext("This text contains a character that is not allowed (%(what)s).", what=bad)
    return None


def call_form(form: FormData, t: Translator) -> tuple[CallCreate | None, dict[str, str]]:
    """The "Post a call" form: the budget in euros, the deadline a date (proposals close at its end, UTC)."""
    errors: dict[str, str] = {}
    title, brief = text(form, "title"), text(form, "brief")
    if message := _line_error(t, title, MAX_TITLE_CHARS):
        errors["title"] = message
    if message := _line_error(t, brief, MAX_DESCRIPTION_CHARS, multiline=True):
        errors["brief"] = message
    disciplines = [d for d in form.getlist("disciplines") if isinstance(d, str)]
    if not disciplines or any(d not in DISCIPLINES for d in disciplines) or len(set(disciplines)) != len(disciplines):
        errors["disciplines"] = t.gettext("Choose at least one discipline.")
    budget_cents, message = price_error(t, text(form, "budget"))
    if message:
        errors["budget"] = message
    deadline = None
    try:
        deadline = datetime.combine(date.fromisoformat(text(form, "deadline")), time(23, 59, 59), tzinfo=UTC)
    except ValueError:
        errors["deadline"] = t.gettext("Enter a date.")
    if deadline is not None and deadline <= datetime.now(UTC):
        errors["deadline"] = t.gettext("The deadline must be in the future.")
    if errors:
        return None, errors
    return CallCreate(title=title, brief=brief, disciplines=disciplines, budget_cents=budget_cents,
                      currency="EUR", deadline=deadline), {}


def proposal_form(form: FormData, t: Translator, member_ids: list[int]) -> tuple[ProposalCreate | None,
                                                                               dict[str, str]]:
    """The "Answer with a team" form: a title, a pitch, and each member's share (in %) and role."""
    errors: dict[str, str] = {}
    title, pitch = text(form, "title"), text(form, "pitch")
    if message := _line_error(t, title, MAX_TITLE_CHARS):
        errors["title"] = message
    if message := _line_error(t, pitch, MAX_DESCRIPTION_CHARS, multiline=True):
        errors["pitch"] = message
    team = []
    for account_id in member_ids:
        bps = parse_share_bps(text(form, f"share_{account_id}"))
        role = text(form, f"role_{account_id}")
        if bps is None:
            errors[f"share_{account_id}"] = t.gettext("Enter a share between 0.01 and 100 %%.")
        if message := _line_error(t, role, MAX_ROLE_CHARS):
            errors[f"role_{account_id}"] = message
        team.append((account_id, bps, role))
    if not any(k.startswith("share_") for k in errors):
        total = sum(bps for _, bps, _ in team)
        if total != BPS_WHOLE:
            errors["team"] = t.gettext("The shares must add up to 100 %% (they add up to %(total)s).",
                                       total=t.percent_bps(total))
    if errors:
        return None, errors
    return ProposalCreate(title=title, pitch=pitch, team=[
        TeamMemberIn(user_id=account_id, share_bps=bps, role=role) for account_id, bps, role in team]), {}


def exhibition_form(form: FormData, t: Translator, *, new: bool) -> tuple[ExhibitionCreate | ExhibitionUpdate | None,
                                                                        dict[str, str]]:
    """The curator's exhibition form: on "New exhibition" with its address (slug); the dates as typed by the date
    inputs (the last day inclusive)."""
    errors: dict[str, str] = {}
    title, body, place = text(form, "title"), text(form, "text"), text(form, "place")
    if message := _line_error(t, title, MAX_TITLE_CHARS):
        errors["title"] = message
    if body and (message := _line_error(t, body, MAX_DESCRIPTION_CHARS, multiline=True)):
        errors["text"] = message
    if place and (message := _line_error(t, place, MAX_PLACE_CHARS)):
        errors["place"] = message
    slug = text(form, "slug")
    if new and (not SLUG.match(slug) or len(slug) > MAX_SLUG_CHARS or slug in RESERVED_SLUGS):
        errors["slug"] = t.gettext("Use lowercase letters, digits and single hyphens (at most %(max)s), like "
                                   "design-round-table.", max=MAX_SLUG_CHARS)
    dates = {}
    for name in ("starts_on", "ends_on"):
        try:
            dates[name] = date.fromisoformat(text(form, name))
        except ValueError:
            errors[name] = t.gettext("Enter a date.")
    if len(dates) == 2 and dates["ends_on"] < dates["starts_on"]:
        errors["ends_on"] = t.gettext("The last day must not be before the first.")
    kind = text(form, "event_kind") or EventKind.other.value
    if kind not in {k.value for k in EventKind}:
        errors["event_kind"] = t.gettext("Choose the kind of event.")
    if errors:
        return None, errors
    fields = {"title": title, "text": body, "place": place, "event_kind": kind, **dates}
    return (ExhibitionCreate(slug=slug, **fields) if new else ExhibitionUpdate(**fields)), {}
