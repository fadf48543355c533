"""The demo sector (`marketplace seed`, `make run` on an empty database): seeded once for the module on a fresh
SQLite database, a freshly deployed contract, the real anvil and IPFS node and a Stripe double; the tests read
what it made from the database, the chain and the double."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import stripe
from sqlalchemy import text
from sqlmodel import Session, func, select

from devtools.stripe_double import StripeDouble
from marketplace.accounts.models import Account, Role
from marketplace.calls.models import Call, CallStatus, Proposal, ProposalStatus
from marketplace.catalog.models import Work, WorkCollaborator, WorkStatus
from marketplace.core import db
from marketplace.core.config import DISCIPLINES, Settings
from marketplace.core.migrate import upgrade
from marketplace.demo import content
from marketplace.demo.seed import SeedRefused, check_may_seed, seed_sector
from marketplace.exhibitions.models import Exhibition
from marketplace.indexer import service as indexer_service
from marketplace.integrations.chain import client as chain_client
from marketplace.organisations.models import Organisation, OrganisationMember
from marketplace.payments.models import LedgerEntry, Purchase, PurchaseKind, PurchaseStatus
from marketplace.payouts.models import Payout, PayoutAccount, PayoutStatus
from marketplace.services import build_services
from tests.plugins.chain_fixtures import DEPLOYER_KEY
from tests.plugins.db_fixtures import _tables

pytestmark = [pytest.mark.chain, pytest.mark.ipfs, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory, anvil, ipfs_node):
    tmp = tmp_path_factory.mktemp("sector")
    deployer = chain_client.EthAccount.from_key(DEPLOYER_KEY).address
    contract = chain_client.deploy(rpc_url=anvil.rpc_url, deployer_key=DEPLOYER_KEY, name="Demo Works",
                                   symbol="DW", admin=deployer, minter=deployer)
    splits = chain_client.deploy_splits(rpc_url=anvil.rpc_url, deployer_key=DEPLOYER_KEY)
    double = StripeDouble(webhook_url=None).start()  # no app: the seed hands the events to the webhook handling
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'seed.db'}"
        upgrade(url)
    else:  # the session's PostgreSQL database, emptied (migrated once for the session)
        url = request.getfixturevalue("pg_database_url")
        engine = db.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(_tables())} RESTART IDENTITY CASCADE"))
        engine.dispose()
    db.init_engine(url)
    settings = Settings(_env_file=None, env="test", data_dir=tmp / "data", database_url=url, rpc_url=anvil.rpc_url,
                        ipfs_api_url=ipfs_node.api_addr, ipfs_timeout_s=20.0, contract_address=contract,
                        splits_address=splits, stripe_api_base=double.api_base, stripe_api_key=double.api_key,
                        stripe_max_network_retries=0, public_base_url="http://testserver", job_retry_backoff_s=0.05)
    services = build_services(settings)
    with Session(db.get_engine()) as session:
        report = seed_sector(session=session, services=services, settings=settings)
    yield report, settings, services, double
    services.ipfs.close()
    double.stop()
    db.get_engine().dispose()


def rows(model, *where) -> list:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(model).where(*where)).all())


def test_the_sector_has_its_people_organisations_and_works(seeded):
    report, *_ = seeded
    creators = rows(Account, Account.role == Role.creator)
    assert len(creators) >= 30 and report.creators == len(creators)
    assert {a.email for a in rows(Account)} >= {"admin@demo.lu", "anna@demo.lu", "luc@demo.lu", "buyer@demo.lu"}
    works = rows(Work)
    assert len(works) >= 80 and {w.discipline for w in works} == set(DISCIPLINES)
    assert {w.media_mime for w in works} >= {"image/png", "image/jpeg", "audio/wav", "application/pdf",
                                            "model/gltf+json"}
    assert all(w.cover_cid for w in works if w.media_kind == "audio")  # audio works carry a cover
    organisations = rows(Organisation)
    assert {"studio", "hub", "school", "cluster"} <= {o.kind for o in organisations}
    members = Counter(m.organisation_id for m in rows(OrganisationMember))
    assert all(members[o.id] >= 2 for o in organisations)
    co_created = Counter(c.work_id for c in rows(WorkCollaborator))
    assert sum(1 for n in co_created.values() if n >= 2) >= 15
    assert all(c.status == "accepted" for c in rows(WorkCollaborator))
    assert len([w for w in works if w.edition_size > 1]) >= 3
    assert 1 <= len([w for w in works if w.status == WorkStatus.draft]) < 10


def test_media_are_on_ipfs_as_uploaded(seeded):
    _, _, services, _ = seeded
    work = next(w for w in rows(Work) if w.media_mime == "model/gltf+json")
    body = services.ipfs.cat_bytes(work.media_cid)
    assert body.startswith(b"{") and b'"version":"2.0"' in body and len(body) == work.media_size


def test_every_listed_work_is_minted_on_chain_and_indexed(seeded):
    _, _, services, _ = seeded
    unique = [w for w in rows(Work) if w.status == WorkStatus.minted and w.edition_size == 1]
    assert len(unique) >= 75
    with Session(db.get_engine()) as session:
        for work in unique:
            on_chain = services.chain.owner_of(int(work.token_id))
            assert on_chain is not None, work.title
            assert indexer_service.owner_of(session, int(work.token_id)).lower() == on_chain.lower()


def test_sold_tokens_are_owned_on_chain_by_their_last_buyers(seeded):
    report, _, services, _ = seeded
    delivered = rows(Purchase, Purchase.status == PurchaseStatus.delivered)
    primary = [p for p in delivered if p.kind == PurchaseKind.primary]
    assert len(primary) >= 25 and report.sales == len(primary)
    assert any(p.edition_number for p in primary)  # editions sold too
    buyers = {a.id: a for a in rows(Account)}
    last: dict[str, Purchase] = {}
    for purchase in sorted(delivered, key=lambda p: p.id):
        last[purchase.token_id] = purchase
    for token_id, purchase in last.items():
        owner = services.chain.owner_of(int(token_id))
        assert owner.lower() == buyers[purchase.buyer_id].custodial_address.lower() == purchase.wallet_address.lower()
    assert len({p.buyer_id for p in primary}) >= 4


def test_resales_book_the_sellers_and_the_creators_royalties(seeded):
    report, *_ = seeded
    resales = rows(Purchase, Purchase.kind == PurchaseKind.resale, Purchase.status == PurchaseStatus.delivered)
    assert len(resales) == report.resales >= 5
    for purchase in resales:
        entries = rows(LedgerEntry, LedgerEntry.purchase_id == purchase.id)
        kinds = Counter(e.entry_type for e in entries)
        assert kinds["resale_seller"] == 1 and kinds["royalty_creator"] >= 1 and kinds["sale_platform_fee"] == 1
        assert sum(e.amount_cents for e in entries) == purchase.amount_cents
        seller = next(e for e in entries if e.entry_type == "resale_seller")
        assert seller.account_id == purchase.seller_id
        assert all(e.amount_cents > 0 for e in entries)


def test_payouts_are_paid_in_the_stripe_double(seeded):
    *_, double = seeded
    paid = rows(Payout, Payout.status == PayoutStatus.paid)
    assert len(paid) >= 20
    accounts = {a.account_id: a.stripe_account_id for a in rows(PayoutAccount)}
    client = stripe.StripeClient(double.api_key, base_addresses={"api": double.api_base})
    for payout in paid[:10]:
        transfer = client.v1.transfers.retrieve(payout.stripe_transfer_id)
        assert transfer.amount == payout.stripe_cents > 0
        assert transfer.destination == accounts[payout.account_id]
    # the creators who did not finish onboarding: their earnings wait, nothing is sent
    waiting = rows(Payout, Payout.status == PayoutStatus.pending)
    assert waiting and all(p.stripe_transfer_id is None for p in waiting)


def test_calls_have_team_proposals_and_one_is_awarded_and_paid(seeded):
    calls = rows(Call)
    assert len(calls) >= 3
    proposals = rows(Proposal)
    assert len(proposals) >= len(calls)
    awarded = [c for c in calls if c.status in (CallStatus.awarded, CallStatus.paid)]
    assert len(awarded) == 1 and awarded[0].status == CallStatus.paid
    assert {p.status for p in proposals} >= {ProposalStatus.awarded, ProposalStatus.submitted}
    team_credits = rows(LedgerEntry, LedgerEntry.purchase_id.in_(
        [p.id for p in rows(Purchase, Purchase.call_id == awarded[0].id)]), LedgerEntry.entry_type == "sale_creator")
    assert len(team_credits) == 2


def test_exhibitions_are_curated_and_some_are_current(seeded):
    exhibitions = rows(Exhibition)
    assert len(exhibitions) >= 3
    today = date.today()
    assert sum(1 for e in exhibitions if e.starts_on <= today <= e.ends_on) >= 2
    assert {"round_table", "open_studio"} <= {e.event_kind for e in exhibitions}


def test_the_seed_refuses_a_database_with_accounts(seeded):
    _, settings, services, _ = seeded
    with Session(db.get_engine()) as session:
        before = session.exec(select(func.count()).select_from(Account)).one()
        with pytest.raises(SeedRefused) as refused:
            seed_sector(session=session, services=services, settings=settings)
        assert refused.value.reason == "not_empty"
        with pytest.raises(SeedRefused) as refused:  # asked to add it anyway: the demo is there already
            seed_sector(session=session, services=services, settings=settings, force=True)
        assert refused.value.reason == "not_empty"
        assert session.exec(select(func.count()).select_from(Account)).one() == before


def test_production_is_refused_unless_asked(seeded):
    _, settings, _, _ = seeded
    production = settings.model_copy(update={"env": "production"})
    with Session(db.get_engine()) as session:
        with pytest.raises(SeedRefused) as refused:
            check_may_seed(session=session, settings=production, force=True)
        assert refused.value.reason == "production"
        with pytest.raises(SeedRefused) as refused:  # asked: then the database's own rule applies
            check_may_seed(session=session, settings=production, force=False, allow_production=True)
        assert refused.value.reason == "not_empty"


def test_the_command_refuses_production_before_touching_the_database(tmp_path, monkeypatch, capsys):
    from marketplace.cli import main

    db_file = tmp_path / "prod.db"
    for name, value in {"ENV": "production", "DATABASE_URL": f"sqlite:///{db_file}",
                        "CONTRACT_ADDRESS": "0x" + "11" * 20, "MINTER_PRIVATE_KEY": "0x" + "22" * 32,
                        "WALLET_SECRET": "w" * 40, "AUTH_SECRET": "a" * 40, "STRIPE_API_KEY": "sk_test_prod",
                        "STRIPE_WEBHOOK_SECRET": "whsec_prod", "MAX_FEE_PER_GAS_GWEI": "100",
                        "METRICS_TOKEN": "m" * 32}.items():
        monkeypatch.setenv(name, value)
    from marketplace.core.config import get_settings

    try:
        assert main(["seed"]) == 2
    finally:
        get_settings.cache_clear()  # the next reader gets its own environment's settings, not these
    assert "ENV=production" in capsys.readouterr().err
    assert not db_file.exists()


def test_the_demo_accounts_keep_their_password(seeded):
    from marketplace.accounts import security

    anna = next(a for a in rows(Account) if a.email == "anna@demo.lu")
    assert security.verify_password(content.DEMO_PASSWORD, anna.password_hash)
    assert anna.display_name == "Anna Schmit Studio"


def test_a_missing_stripe_double_is_named():
    from devtools.procs import pick_free_port
    from marketplace.demo.seed import _Double

    base = f"http://127.0.0.1:{pick_free_port()}"  # nothing listens there
    with pytest.raises(SeedRefused) as refused:
        _Double(base).check()
    assert refused.value.reason == "service" and "Stripe double" in str(refused.value) and base in str(refused.value)


def test_every_insights_figure_matches_the_ledger_and_the_chain_index_of_the_sector(seeded):
    """Every figure of the insights (GET /api/insights/{figure}, JSON and CSV) over the seeded sector, checked
    against what the ledger, the purchases, the payouts, the calls, the memberships and the chain index's rows say,
    computed here from the rows."""
    import csv
    import io
    import statistics
    from collections import defaultdict

    from fastapi.testclient import TestClient

    from marketplace.indexer.models import ChainEvent
    from marketplace.insights import service as insights_service
    from marketplace.main import create_app
    from marketplace.network import service as network_service

    _, settings, services, _ = seeded
    quiet = settings.model_copy(update={  # the app reads; no worker of its own changes what the checks read
        "run_mint_worker": False, "run_delivery_worker": False, "run_payout_worker": False, "run_mail_worker": False,
        "run_indexer": False})
    with TestClient(create_app(quiet, services)) as client:
        figures = {}
        for name in insights_service.FIGURES:
            r = client.get(f"/api/insights/{name}")
            assert r.status_code == 200, r.text
            figures[name] = r.json()["rows"]
            # the CSV holds the JSON's rows, column for column
            csv_r = client.get(f"/api/insights/{name}", params={"format": "csv"})
            parsed = list(csv.reader(io.StringIO(csv_r.text)))
            assert parsed[0] == list(insights_service.FIGURES[name].columns)
            assert parsed[1:] == [[str(row[k]) for k in parsed[0]] for row in figures[name]], name
        page = client.get("/insights")
        assert page.status_code == 200 and page.text.count('<svg class="insight-svg"') == len(figures)

    purchases = rows(Purchase)
    ledger = rows(LedgerEntry)
    works = {w.id: w for w in rows(Work)}
    transfers = {(e.token_id, e.tx_hash.lower()) for e in rows(ChainEvent, ChainEvent.event == "Transfer")}
    booked: Counter = Counter()
    for e in ledger:
        booked[e.purchase_id] += e.amount_cents
    sales = [p for p in purchases if p.work_id is not None and p.status == PurchaseStatus.delivered]
    assert len(sales) == 24 + sum(n for _, n in content.EDITIONS) + 5  # the seed's sales and resales
    assert all(booked[p.id] == p.amount_cents for p in sales)  # what each paid, booked to the cent

    # sales by month: count, volume, and every delivery's Transfer in the chain index
    by_month: dict[str, list[Purchase]] = defaultdict(list)
    for p in sales:
        by_month[p.delivered_at.strftime("%Y-%m")].append(p)
    assert figures["sales-by-month"] == [
        {"month": m, "count": len(ps), "volume_cents": sum(booked[p.id] for p in ps), "currency": "EUR",
         "on_chain_count": sum((p.token_id, p.delivery_tx_hash.lower()) in transfers for p in ps)}
        for m, ps in sorted(by_month.items())]
    assert sum(r["on_chain_count"] for r in figures["sales-by-month"]) == len(sales)  # the index holds them all

    discipline_totals = Counter()
    for p in sales:
        discipline_totals[(works[p.work_id].discipline, "count")] += 1
        discipline_totals[(works[p.work_id].discipline, "volume")] += booked[p.id]
    assert figures["sales-by-discipline"] == [
        {"discipline": d, "count": discipline_totals[(d, "count")],
         "volume_cents": discipline_totals[(d, "volume")], "currency": "EUR"} for d in DISCIPLINES]

    assert figures["primary-vs-resale"] == [
        {"kind": kind, "count": sum(p.kind == kind for p in sales),
         "volume_cents": sum(booked[p.id] for p in sales if p.kind == kind), "currency": "EUR"}
        for kind in (PurchaseKind.primary.value, PurchaseKind.resale.value)]
    assert figures["primary-vs-resale"][1]["count"] == 5

    # royalties and split payouts credited to creators (net of refunds: the seed refunds nothing)
    creators_per_purchase = Counter(e.purchase_id for e in ledger if e.entry_type == "sale_creator")
    royalties = sum(e.amount_cents for e in ledger if e.entry_type in ("royalty_creator", "refund_royalty"))
    splits = sum(e.amount_cents for e in ledger if e.entry_type in ("sale_creator", "refund_creator")
                 and creators_per_purchase[e.purchase_id] > 1)
    assert (sum(r["royalties_cents"] for r in figures["royalties-and-splits"]),
            sum(r["splits_cents"] for r in figures["royalties-and-splits"])) == (royalties, splits)
    assert royalties > 0 and splits > 0

    # co-creation: of the published works, those with two or more accepted creators
    published = [w for w in works.values() if w.status == WorkStatus.minted and w.hidden_at is None]
    crews: dict[int, list[int]] = defaultdict(list)
    for c in rows(WorkCollaborator, WorkCollaborator.status == "accepted"):
        crews[c.work_id].append(c.account_id)
    co_created = {w.id: crews[w.id] for w in published if len(crews.get(w.id, ())) > 1}
    orgs_of: dict[int, set[int]] = defaultdict(set)
    for m in rows(OrganisationMember):
        orgs_of[m.account_id].add(m.organisation_id)
    with Session(db.get_engine()) as session:
        discipline_of = {int(n.id[1:]): n.discipline for n in network_service.build_network(session).nodes
                         if n.id.startswith("a")}
    across_disciplines = sum(len({discipline_of.get(a) for a in crew} - {None}) > 1 for crew in co_created.values())
    across_orgs = sum(len(set().union(*(orgs_of[a] for a in crew))) > 1
                      and not set.intersection(*(orgs_of[a] for a in crew)) for crew in co_created.values())
    assert [(r["measure"], r["works"], r["of_works"]) for r in figures["co-creation"]] == [
        ("co_created", len(co_created), len(published)), ("across_disciplines", across_disciplines, len(published)),
        ("across_organisations", across_orgs, len(published))]
    assert len(co_created) == content.CO_CREATED

    # calls: posted, answered (a proposal submitted), awarded
    calls, proposals = rows(Call), rows(Proposal)
    answered = {p.call_id for p in proposals if p.submitted_at is not None}
    assert [(r["posted"], r["answered"], r["awarded"]) for r in figures["calls"]] == [
        (len(calls), sum(c.id in answered for c in calls), sum(c.awarded_proposal_id is not None for c in calls))]

    # time to first sale: upload to the first delivered first sale, whole seconds, the median
    waits: dict[str, list[int]] = defaultdict(list)
    for work_id in sorted({p.work_id for p in sales if p.kind == PurchaseKind.primary}):
        first = min(p.delivered_at for p in sales if p.work_id == work_id and p.kind == PurchaseKind.primary)
        seconds = int((first.replace(tzinfo=None) - works[work_id].created_at.replace(tzinfo=None)).total_seconds())
        waits["all"].append(seconds)
        waits[works[work_id].discipline].append(seconds)
    got = {r["discipline"]: r for r in figures["time-to-first-sale"]}
    assert set(got) == set(waits)
    for key, durations in waits.items():
        assert got[key]["works"] == len(durations)
        assert abs(got[key]["median_seconds"] - statistics.median(durations)) <= 0.5

    # payouts: what Stripe transferred for creators' credits (not resale sellers'), net of reversals
    entry_type = {e.id: e.entry_type for e in ledger}
    made = [p for p in rows(Payout) if p.status in (PayoutStatus.paid, "reversed") and p.settled_at is not None
            and entry_type.get(p.ledger_entry_id) in ("sale_creator", "refund_creator", "royalty_creator",
                                                       "refund_royalty")]
    assert (sum(r["paid_cents"] for r in figures["payouts"]), sum(r["transfers"] for r in figures["payouts"])) == (
        sum(p.stripe_cents for p in made if p.kind == "transfer"), sum(p.kind == "transfer" for p in made))
    assert sum(r["net_cents"] for r in figures["payouts"]) > 0
