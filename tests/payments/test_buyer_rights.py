"""What a buyer in the EU is owed: the consent to immediate supply before paying (art. 16(m) CRD), recorded with
the purchase; a receipt (page and PDF, the buyer's language) with sellers, work, licence, token, price and the VAT
in it; only the buyer and admins see it. Real app, Stripe double, anvil, IPFS, SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from marketplace.payments.models import IMMEDIATE_SUPPLY_CONSENT
from marketplace.web import labels
from tests.catalog.crews import Team
from tests.payments.conftest import BUY_FORM, Shop, purchases
from tests.web.pdf_text import pdf_text

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

CONSENT_FR = ("Je demande que l'œuvre me soit fournie immédiatement, avant la fin du délai de rétractation de 14 "
              "jours, et je reconnais perdre ainsi mon droit de rétractation.")


def test_the_pages_show_the_same_words_the_purchase_records():
    assert labels.IMMEDIATE_SUPPLY_CONSENT == IMMEDIATE_SUPPLY_CONSENT


def test_a_checkout_without_consent_is_refused_and_nothing_is_reserved(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    sessions_before = len(shop.live.double.state.store.sessions)
    url = f"/api/works/{work['id']}/checkout"
    for body in (None, {}, {"accept_license": True}, {"accept_immediate_supply": False, "accept_license": True}):
        r = shop.client.post(url, headers=buyer["headers"], json=body)
        assert r.status_code == 422, (body, r.text)
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body", "accept_immediate_supply"]
        assert "Consent to immediate supply is required" in error["msg"] and "right of withdrawal" in error["msg"]
    assert purchases() == []  # no purchase row
    assert len(shop.live.double.state.store.sessions) == sessions_before  # Stripe never heard of it
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "available"

    r = shop.checkout(buyer, work["id"])  # accept_immediate_supply: true
    assert r.status_code == 201, r.text
    (purchase,) = purchases()
    assert purchase.immediate_supply_consent_text == IMMEDIATE_SUPPLY_CONSENT
    assert purchase.immediate_supply_consent_at is not None
    public = shop.purchase(buyer, purchase.id)
    assert public["immediate_supply_consent_text"] == IMMEDIATE_SUPPLY_CONSENT
    assert public["immediate_supply_consent_at"] is not None
    assert len(shop.live.double.state.store.sessions) == sessions_before + 1


def test_the_work_page_requires_the_consent_box_and_records_its_words_in_the_buyer_s_language(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    page = shop.page(buyer, f"/works/{work['id']}").text
    assert re.search(r'<input type="checkbox" name="accept_immediate_supply" value="yes" '
                     r'id="accept-immediate-supply" required> ' + re.escape(IMMEDIATE_SUPPLY_CONSENT), page)
    assert 'href="/terms#withdrawal"' in page

    refused = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy", {"accept_license": "yes"})
    assert refused.status_code == 422
    assert 'id="accept-immediate-supply-error">Tick the box to ask for immediate supply' in refused.text
    assert purchases() == []
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "available"

    bought = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy", BUY_FORM,
                            headers={"Accept-Language": "fr-LU,fr"})
    assert bought.status_code == 303, bought.text
    (purchase,) = purchases()
    assert purchase.immediate_supply_consent_text == CONSENT_FR  # the words the buyer read
    assert purchase.license_accepted_at is not None and purchase.immediate_supply_consent_at is not None
    # "Return to payment" (no boxes: the consent is on record) reopens the same checkout
    again = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy")
    assert again.status_code == 303 and again.headers["location"] == bought.headers["location"]


def _paid_co_created(shop: Shop, price_cents: int = 2500):
    team = Team(shop, price_cents=price_cents, license="CC-BY-4.0", title="Schueberfouer at Night")
    team.accepted()
    work = team.mint()
    buyer = shop.register(role="buyer", name="Marie Buyer")
    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 201, r.text
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    purchase_id = r.json()["purchase_id"]
    shop.wait_purchase(buyer, purchase_id, "delivered")
    return team, shop.client.get(f"/api/works/{work['id']}").json(), buyer, purchase_id


def test_the_receipt_page_and_pdf_name_sellers_work_licence_token_and_the_vat_in_the_price(shop: Shop):
    _, work, buyer, purchase_id = _paid_co_created(shop)
    token_hex = f"0x{work['token_id']:064x}"

    page = shop.page(buyer, f"/purchases/{purchase_id}/receipt")
    assert page.status_code == 200, page.text
    html = page.text
    assert f"Receipt R-{purchase_id:06d}" in html
    assert "Schueberfouer at Night" in html
    assert "Anna Schmit (photographer, 50%); Luc Weber (composer, 30%); Sofia Reis (3D artist, 20%)" in html
    assert "Sold by (co-creators)" in html and "as intermediary" in html
    assert "Creative Commons" in html or "CC BY" in html  # the licence's name
    assert token_hex in html
    # 25.00 VAT included at 17 %: net 21.37 (2500 / 1.17 = 2136.75 -> 2137), VAT 3.63; 21.37 + 3.63 = 25.00
    assert "VAT 17%" in html
    assert re.search(r"<td>€21\.37</td><td>€3\.63</td><td>€25\.00</td>", html)
    assert "€21.37 net + €3.63 VAT = €25.00" in html
    assert "Marie Buyer" in html and buyer["email"] in html
    assert "you asked for immediate supply and acknowledged losing your right of withdrawal" in html
    assert IMMEDIATE_SUPPLY_CONSENT in html
    assert f'href="/purchases/{purchase_id}/receipt.pdf"' in html

    pdf = shop.page(buyer, f"/purchases/{purchase_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "private, no-store"
    text = pdf_text(pdf.content)
    flat = text.replace("\n", "")  # a long value (the token id) wrapped mid-word
    spaced = text.replace("\n", " ")  # a sentence wrapped at its spaces
    assert f"Receipt R-{purchase_id:06d}" in text
    assert "Schueberfouer at Night" in text
    for seller in ("Anna Schmit (photographer, 50%)", "Luc Weber (composer, 30%)", "Sofia Reis (3D artist, 20%)"):
        assert seller in spaced
    assert token_hex in flat
    assert "VAT 17%" in text and "€21.37" in text and "€3.63" in text and "€25.00" in text
    assert "€21.37 net + €3.63 VAT = €25.00" in spaced
    assert "as intermediary" in text

    # the buyer's language: French from the browser
    fr = shop.page(buyer, f"/purchases/{purchase_id}/receipt", **{"Accept-Language": "fr"}).text
    assert f"Reçu R-{purchase_id:06d}" in fr and "TVA" in fr and "21,37" in fr
    fr_pdf = pdf_text(shop.page(buyer, f"/purchases/{purchase_id}/receipt.pdf", **{"Accept-Language": "fr"}).content)
    # (fpdf2 prints a no-break space as a space)
    assert f"Reçu R-{purchase_id:06d}" in fr_pdf and "TVA 17" in fr_pdf and "21,37 €" in fr_pdf
    de_pdf = pdf_text(shop.page(buyer, f"/purchases/{purchase_id}/receipt.pdf", **{"Accept-Language": "de"}).content)
    assert f"Beleg R-{purchase_id:06d}" in de_pdf and "MwSt. 17" in de_pdf and "25,00 €" in de_pdf

    # the purchase page and the collection link to it
    assert f'href="/purchases/{purchase_id}/receipt"' in shop.page(buyer, f"/purchases/{purchase_id}").text
    assert f'href="/purchases/{purchase_id}/receipt"' in shop.page(buyer, "/collection").text


def test_only_the_buyer_and_admins_open_a_receipt_and_only_once_paid(shop: Shop):
    team, _, buyer, purchase_id = _paid_co_created(shop, price_cents=999)
    admin, stranger = shop.register_admin(), shop.register(role="buyer")
    for path in (f"/purchases/{purchase_id}/receipt", f"/purchases/{purchase_id}/receipt.pdf"):
        assert shop.page(admin, path).status_code == 200
        for other in (stranger, team.uploader, team.composer):  # the sellers see their sales in the studio
            refused = shop.page(other, path)
            assert refused.status_code == 404 and "Schueberfouer" not in refused.text
        anonymous = shop.client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin?next=")
    assert shop.page(admin, f"/purchases/{purchase_id}/receipt").text.count("Marie Buyer") >= 1

    # not paid yet: no receipt, no link
    other_work = shop.minted_work(team.uploader, title="Grund at Dawn")
    pending = shop.checkout(buyer, other_work["id"]).json()["purchase_id"]
    page = shop.page(buyer, f"/purchases/{pending}/receipt")
    assert page.status_code == 404 and "A receipt is issued once the payment has been received." in page.text
    assert shop.page(buyer, f"/purchases/{pending}/receipt.pdf").status_code == 404
    assert f'/purchases/{pending}/receipt"' not in shop.page(buyer, f"/purchases/{pending}").text
    assert shop.page(buyer, "/purchases/999999/receipt").status_code == 404


def test_the_vat_rate_comes_from_the_settings(make_live):
    shop = Shop(make_live(vat_rate_bps=800))
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=1080)
    r = shop.checkout(buyer, work["id"])
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    purchase_id = r.json()["purchase_id"]
    shop.wait_purchase(buyer, purchase_id, "delivered")
    text = pdf_text(shop.page(buyer, f"/purchases/{purchase_id}/receipt.pdf").content)
    assert "VAT 8%" in text and "€10.00" in text and "€0.80" in text and "€10.80" in text
    # a single creator: "Sold by", no share shown
    assert "Sold by" in text and "Sold by (co-creators)" not in text
