"""A purchase's receipt, as a page and as a PDF, in the reader's language: the same facts, table and notes in
both (`receipt_document`). Only the buyer and admins see it, like the purchase page: anyone else gets the page for
a purchase that does not exist (404); signed out, sign in first."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from marketplace.core.config import Settings
from marketplace.core.deps import PurchaseId, SessionDep
from marketplace.core.exceptions import NotFound
from marketplace.payments import receipts
from marketplace.payments import service as payments_service
from marketplace.web import pdf
from marketplace.web.dependencies import TranslatorDep, Viewer
from marketplace.web.i18n import Translator
from marketplace.web.templating import redirect, render, settings_of

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ReceiptDocument:
    title: str
    facts: list[tuple[str, str]]
    header: list[str]
    rows: list[list[str]]
    notes: list[str]
    operator: list[tuple[str, str]]


def _seller(t: Translator, seller: receipts.Seller, alone: bool) -> str:
    share = "" if alone else t.percent_bps(seller.share_bps)
    details = ", ".join(part for part in (seller.role, share) if part)
    return f"{seller.name} ({details})" if details else seller.name


def receipt_document(t: Translator, receipt: receipts.Receipt, settings: Settings) -> ReceiptDocument:
    """What the receipt says, translated: the page renders it, the PDF prints it."""
    money = lambda cents: t.money(cents, receipt.currency)
    rate = t.percent_bps(receipt.vat_rate_bps)
    alone = len(receipt.sellers) == 1
    facts = [
        (t.gettext("Receipt number"), receipt.number),
        (t.gettext("Date of payment"), t.date(receipt.paid_at)),
        (t.gettext("Buyer"), f"{receipt.buyer_name} ({receipt.buyer_email})"),
        (t.gettext("Work") if receipt.kind == "work" else t.gettext("Commission (open call)"), receipt.title),
        (t.gettext("Sold by") if alone else t.gettext("Sold by (co-creators)"),
         "; ".join(_seller(t, s, alone) for s in receipt.sellers)),
        *([(t.gettext("Resale of a work by"), ", ".join(receipt.authors))] if receipt.resale else []),
        (t.gettext("Sold through"), t.gettext("%(operator)s, as intermediary", operator=settings.operator_name)),
    ]
    if receipt.license:
        facts.append((t.gettext("Licence"), t.label("license", receipt.license)))
    if receipt.token_id is not None:
        facts.append((t.gettext("Token id"), f"0x{receipt.token_id:064x}"))
    facts.append((t.gettext("Payment"), t.gettext("Card, through Stripe")))
    if receipt.refunded:
        facts.append((t.gettext("Status"), t.gettext("Refunded on %(date)s", date=t.date(receipt.refunded_at))
                      if receipt.refunded_at else t.gettext("Refunded")))
    header = [t.gettext("Description"), t.gettext("Net"), t.gettext("VAT %(rate)s", rate=rate),
              t.gettext("Price (VAT included)")]
    rows = [[receipt.title, money(receipt.net_cents), money(receipt.vat_cents), money(receipt.gross_cents)],
            [t.gettext("Total paid"), money(receipt.net_cents), money(receipt.vat_cents), money(receipt.gross_cents)]]
    notes = [
        t.gettext("Prices are shown VAT included. VAT at %(rate)s: %(net)s net + %(vat)s VAT = %(gross)s. The net "
                  "is the price divided by (1 + VAT rate), rounded to the nearest cent (half a cent up); the VAT is "
                  "the rest.", rate=rate, net=money(receipt.net_cents), vat=money(receipt.vat_cents),
                  gross=money(receipt.gross_cents)),
        t.gettext("%(operator)s runs this marketplace and sells on behalf of the creators named above, as an "
                  "intermediary: they are the authors of the work and grant its licence.",
                  operator=settings.operator_name) if not receipt.resale else
        t.gettext("%(operator)s runs this marketplace and sells on behalf of the seller named above, a previous "
                  "buyer of the token, as an intermediary. The work's authors, named above, grant its licence.",
                  operator=settings.operator_name),
    ]
    if receipt.resale and receipt.royalty_cents is not None:
        notes.append(t.gettext("Of this price, %(royalty)s is the authors' royalty on the resale, as the token's "
                               "contract sets it (EIP-2981).", royalty=money(receipt.royalty_cents)))
    if receipt.consent_at is not None and receipt.consent_text:
        notes.append(t.gettext("Before paying, on %(date)s, you asked for immediate supply and acknowledged losing "
                               "your right of withdrawal: “%(consent)s”", date=t.date(receipt.consent_at),
                               consent=receipt.consent_text))
    operator = [
        (t.gettext("Operator"), settings.operator_name),
        (t.gettext("Address"), settings.operator_address),
        (t.gettext("Trade register (RCS Luxembourg)"), settings.operator_rcs),
        (t.gettext("VAT number"), settings.operator_vat_id),
        (t.gettext("E-mail"), settings.operator_email),
    ]
    return ReceiptDocument(title=t.gettext("Receipt %(number)s", number=receipt.number), facts=facts,
                           header=header, rows=rows, notes=notes, operator=operator)


def _printable(text: str) -> str:
    """Babel's French spaces money and percentages with a narrow no-break space, which the vendored font subset
    lacks: the PDF prints a plain no-break space there."""
    return text.replace("\u202f", "\xa0")


def _receipt(request: Request, session, purchase_id: int, viewer) -> tuple[object | None, receipts.Receipt | None]:
    try:
        purchase = payments_service.get_visible_purchase_or_raise(session=session, purchase_id=purchase_id,
                                                                  viewer=viewer)
    except NotFound:
        return None, None
    return purchase, receipts.receipt_of(session=session, purchase=purchase,
                                         vat_rate_bps=settings_of(request).vat_rate_bps)


@router.get("/purchases/{purchase_id}/receipt", response_class=HTMLResponse)
def receipt_page(purchase_id: PurchaseId, request: Request, session: SessionDep, viewer: Viewer,
                 t: TranslatorDep) -> Response:
    """The receipt of a paid purchase (404 before the payment arrived, and for anyone but the buyer and admins)."""
    if viewer is None:
        return redirect(request, f"/signin?next={quote(request.url.path, safe='/')}")
    purchase, receipt = _receipt(request, session, purchase_id, viewer)
    if receipt is None:
        return render(request, "receipt.html", {"purchase": purchase, "doc": None}, account=viewer, status_code=404)
    return render(request, "receipt.html", {
        "purchase": purchase, "receipt": receipt, "doc": receipt_document(t, receipt, settings_of(request))},
        account=viewer)


@router.get("/purchases/{purchase_id}/receipt.pdf")
def receipt_pdf(purchase_id: PurchaseId, request: Request, session: SessionDep, viewer: Viewer,
                t: TranslatorDep) -> Response:
    """The same receipt as a PDF (A4) to keep."""
    if viewer is None:
        return redirect(request, f"/signin?next={quote(request.url.path, safe='/')}")
    _, receipt = _receipt(request, session, purchase_id, viewer)
    if receipt is None:
        raise HTTPException(404)
    settings = settings_of(request)
    doc = receipt_document(t, receipt, settings)
    body = pdf.document(title=_printable(doc.title), facts=[(_printable(a), _printable(b)) for a, b in doc.facts]
                        + [("", "")] + [(_printable(a), _printable(b)) for a, b in doc.operator],
                        header=[_printable(h) for h in doc.header],
                        rows=[[_printable(c) for c in row] for row in doc.rows],
                        notes=[_printable(n) for n in doc.notes], author=settings.operator_name)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="receipt-{receipt.number}.pdf"',
        "Cache-Control": "private, no-store"})
