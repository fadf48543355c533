"""The insights over a marketplace built the way people use it (both databases): a co-created work sold by card
through the Stripe double and resold with its royalty split, a solo work sold, another sold and refunded, a creator
paid out through Connect, two organisations, an answered and awarded call and one unanswered. Every figure is
checked against what the ledger rows, the purchases, the payouts and the chain index's rows say (computed here
independently), and the figures' literal values; the CSV equals the JSON; the page renders in French and German.

One data set for the whole module: it is built once per database in one test (a chain and a card payment per sale
cost seconds), and every check runs on it."""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections import Counter, defaultdict

import pytest
import stripe as stripe_sdk
from sqlmodel import Session, select

from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.indexer.models import ChainEvent
from marketplace.insights import service as insights_service
from marketplace.payments.models import LedgerEntry, Purchase
from marketplace.payouts.models import Payout
from tests.calls.conftest import CallsApi
from tests.organisations.helpers import add_member, make_org
from tests.payments.conftest import Shop
from tests.payouts.test_payouts_live import onboard, wait_payouts
from tests.resale.helpers import buy, list_token, pay, sell
from tests.resale.test_resale import co_created

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow]


def rows(model) -> list:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(model)).all())


def build(shop: Shop) -> dict:
    """The marketplace of this module; returns who and what, for the checks."""
    team = co_created(shop, discipline="photography")  # Anna 70 % / Luc 30 %, royalty 7.5 %, 25.00 €
    anna, luc = team.uploader, team.composer
    music = shop.minted_work(luc, discipline="music", price_cents=1500, title="Moselle Suite")
    ben = shop.register(name="Ben Design")
    design = shop.minted_work(ben, discipline="design", price_cents=1000, title="Poster")
    admin = shop.register_admin()
    for name, member in (("Studio Nord", anna), ("Hub Sud", luc)):
        org = make_org(shop, admin, name)
        assert add_member(shop, admin, org["slug"], member["id"]).status_code == 201

    collector, first = sell(shop, team.work["id"])
    listing = list_token(shop, collector, team.get()["token_id"], 1003).json()
    second = shop.register(role="buyer", name="Jean Second")
    checkout = buy(shop, second, listing["id"]).json()
    pay(shop, checkout)
    resale = shop.wait_purchase(second, checkout["purchase_id"], "delivered")
    _, music_sale = sell(shop, music["id"])
    refunded_buyer, design_sale = sell(shop, design["id"])
    client = stripe_sdk.StripeClient(shop.live.double.api_key,
                                     base_addresses={"api": shop.live.double.api_base.rstrip("/")})
    intent = next(p for p in rows(Purchase) if p.id == design_sale["id"]).stripe_payment_intent_id
    client.v1.refunds.create(params={"payment_intent": intent})
    shop.wait_purchase(refunded_buyer, design_sale["id"], "refunded")

    assert onboard(shop, anna).status_code == 303  # her share of the first sale and her part of the royalty
    wait_payouts(shop, anna, lambda b: b["paid_cents"] == 1575 + 53)

    calls = CallsApi(shop)
    caller = shop.register(role="buyer", name="Cluster")
    answered = calls.post_call(caller)
    proposal = calls.submitted(luc, answered["id"], [(luc, 10_000, "composer")])
    assert calls.award(caller, answered["id"], proposal["id"]).status_code == 200
    calls.post_call(caller, title="Nobody answered this one")

    delivered = [first["id"], resale["id"], music_sale["id"]]
    deadline = time.monotonic() + 30
    while not all(_indexed(p) for p in rows(Purchase) if p.id in delivered):  # the indexer reads the deliveries
        assert time.monotonic() < deadline, "the chain index never held the deliveries"
        time.sleep(0.1)
    return {"anna": anna, "luc": luc, "delivered": delivered, "refunded": design_sale["id"]}


def _indexed(purchase: Purchase) -> bool:
    return any(e.event == "Transfer" and e.token_id == purchase.token_id
               and e.tx_hash.lower() == (purchase.delivery_tx_hash or "").lower() for e in rows(ChainEvent))


def month(moment) -> str:
    return moment.strftime("%Y-%m")


def api_figure(shop: Shop, name: str) -> dict:
    r = shop.client.get(f"/api/insights/{name}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"figure", "rows", "generated_at"} and body["figure"] == name
    return body


def test_every_figure_matches_the_ledger_and_the_chain_index(shop: Shop):
    built = build(shop)
    purchases = {p.id: p for p in rows(Purchase)}
    ledger = rows(LedgerEntry)
    events = rows(ChainEvent)
    works = {w.id: w for w in rows(Work)}
    figures = {name: api_figure(shop, name)["rows"] for name in insights_service.FIGURES}

    # --- sales: the delivered purchases of works; what they paid is what the ledger booked for them
    sales = [p for p in purchases.values() if p.work_id is not None and p.status == "delivered"]
    assert sorted(p.id for p in sales) == sorted(built["delivered"])  # the refunded sale is not a sale
    booked = Counter()
    for e in ledger:
        booked[e.purchase_id] += e.amount_cents
    assert booked[built["refunded"]] == 0  # refunded: its credits reversed to the cent
    by_month: dict[str, list[Purchase]] = defaultdict(list)
    for p in sales:
        by_month[month(p.delivered_at)].append(p)
    on_chain = {p.id for p in sales if any(e.event == "Transfer" and e.token_id == p.token_id
                                           and e.tx_hash.lower() == p.delivery_tx_hash.lower() for e in events)}
    assert figures["sales-by-month"] == [
        {"month": m, "count": len(ps), "volume_cents": sum(booked[p.id] for p in ps), "currency": "EUR",
         "on_chain_count": sum(p.id in on_chain for p in ps)} for m, ps in sorted(by_month.items())]
    assert [(r["count"], r["volume_cents"], r["on_chain_count"]) for r in figures["sales-by-month"]] == [
        (3, 2500 + 1003 + 1500, 3)]

    by_discipline = {r["discipline"]: (r["count"], r["volume_cents"]) for r in figures["sales-by-discipline"]}
    expected = Counter()
    for p in sales:
        expected[(works[p.work_id].discipline, "n")] += 1
        expected[(works[p.work_id].discipline, "v")] += booked[p.id]
    assert by_discipline == {d: (expected[(d, "n")], expected[(d, "v")]) for d in by_discipline}
    assert (by_discipline["photography"], by_discipline["music"], by_discipline["design"]) == (
        (2, 3503), (1, 1500), (0, 0))

    assert figures["primary-vs-resale"] == [
        {"kind": kind, "count": sum(p.kind == kind for p in sales),
         "volume_cents": sum(booked[p.id] for p in sales if p.kind == kind), "currency": "EUR"}
        for kind in ("primary", "resale")]
    assert [(r["count"], r["volume_cents"]) for r in figures["primary-vs-resale"]] == [(2, 4000), (1, 1003)]

    # --- royalties (75: 53 / 22) and split payouts (the co-created first sale: 1575 + 675), net of refunds
    creators_per_purchase = Counter(e.purchase_id for e in ledger if e.entry_type == "sale_creator")
    royalties = sum(e.amount_cents for e in ledger if e.entry_type in ("royalty_creator", "refund_royalty"))
    splits = sum(e.amount_cents for e in ledger if e.entry_type in ("sale_creator", "refund_creator")
                 and creators_per_purchase[e.purchase_id] > 1)
    (row,) = figures["royalties-and-splits"]
    assert (row["royalties_cents"], row["splits_cents"]) == (royalties, splits) == (75, 2250)

    # --- co-creation: 3 published works, 1 co-created, across disciplines (photography / music) and organisations
    assert figures["co-creation"] == [
        {"measure": "co_created", "works": 1, "of_works": 3, "share_bps": 3333},
        {"measure": "across_disciplines", "works": 1, "of_works": 3, "share_bps": 3333},
        {"measure": "across_organisations", "works": 1, "of_works": 3, "share_bps": 3333}]

    (calls_row,) = figures["calls"]
    assert {k: calls_row[k] for k in ("posted", "answered", "awarded")} == {"posted": 2, "answered": 1, "awarded": 1}

    # --- time to first sale: upload to the first delivered first sale, whole seconds, median
    waits = defaultdict(list)
    for work_id in {p.work_id for p in sales if p.kind == "primary"}:
        first = min(p.delivered_at for p in sales if p.work_id == work_id and p.kind == "primary")
        seconds = int((first.replace(tzinfo=None) - works[work_id].created_at.replace(tzinfo=None)).total_seconds())
        waits["all"].append(seconds)
        waits[works[work_id].discipline].append(seconds)
    got = {r["discipline"]: r for r in figures["time-to-first-sale"]}
    assert set(got) == {"all", "photography", "music"}  # the refunded design work never sold
    for key, durations in waits.items():
        median = statistics.median(durations)
        assert abs(got[key]["median_seconds"] - median) <= 0.5 and got[key]["works"] == len(durations)
        assert got[key]["median_hours"] == int(median / 3600 + 0.5)

    # --- payouts: what Stripe transferred to creators (Anna: 1575 + 53)
    made = [p for p in rows(Payout) if p.status == "paid" and p.account_id in (built["anna"]["id"],
                                                                               built["luc"]["id"])]
    (payout_row,) = figures["payouts"]
    assert (payout_row["transfers"], payout_row["paid_cents"], payout_row["net_cents"]) == (
        len(made), sum(p.stripe_cents for p in made), 1628)

    # --- the CSV holds the JSON's rows, column for column
    for name, body_rows in figures.items():
        r = shop.client.get(f"/api/insights/{name}", params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        parsed = list(csv.reader(io.StringIO(r.text)))
        assert parsed[0] == list(insights_service.FIGURES[name].columns)
        assert parsed[1:] == [[str(row[k]) for k in parsed[0]] for row in body_rows]
        assert [dict(zip(parsed[0], line, strict=True)) for line in parsed[1:]] == [
            {k: str(v) for k, v in row.items()} for row in body_rows]

    # --- ?from=&to=: a figure by month kept to those months; a malformed month is a 422
    this = figures["sales-by-month"][0]["month"]
    assert shop.client.get("/api/insights/sales-by-month", params={"from": this, "to": this}).json()["rows"] == (
        figures["sales-by-month"])
    assert shop.client.get("/api/insights/calls", params={"to": "2000-01"}).json()["rows"] == []
    assert shop.client.get("/api/insights/calls", params={"from": "2026-13"}).status_code == 422

    # --- unknown figure: 404 with the usual body
    r = shop.client.get("/api/insights/sales-by-weekday")
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "sales-by-month" in r.json()["detail"]

    # --- the page, in English, French and German: every figure, its chart and table, money in the locale
    pages = {lang: shop.client.get("/insights", headers={"Cookie": f"mp_lang={lang}"}) for lang in ("en", "fr", "de")}
    assert all(p.status_code == 200 for p in pages.values())
    for lang, text in {"en": "Sales by month", "fr": "Ventes par mois", "de": "Verkäufe nach Monat"}.items():
        assert text in pages[lang].text
        assert pages[lang].text.count('<svg class="insight-svg"') == len(insights_service.FIGURES)
        assert pages[lang].text.count('class="table table-stack insight-table"') == len(insights_service.FIGURES)
    assert "€50.03" in pages["en"].text
    assert "50,03\xa0€" in pages["fr"].text.replace("\u202f", "\xa0") or "50,03 €" in pages["fr"].text
    assert "50,03\xa0€" in pages["de"].text or "50,03 €" in pages["de"].text
    assert 'href="/api/insights/payouts?format=csv"' in pages["de"].text
    assert 'href="/insights"' in pages["en"].text.split("<footer", 1)[1]
