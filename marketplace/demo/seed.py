"""The demo sector (`marketplace seed`, and `make run` on an empty database): organisations, some thirty creators
of every discipline, their works with media made here, co-created works, editions, open calls with team
proposals, card sales, resales and payouts.

Everything goes through the product's own services, as a user's requests would: accounts are registered, works
uploaded to IPFS, minted by the mint worker's own steps, bought through Stripe Checkout sessions that are paid on
the Stripe double's hosted page, whose signed events are handed to the webhook's own handling function
(payments.webhooks.handle_stripe_event), delivered by the delivery worker, paid out by the payout worker, and read
back by the chain indexer. No table is written by hand.

The content is fixed (content.py, one random.Random(RNG_SEED)): on a fresh database the seed makes the same sector
each time. It refuses a database that has accounts unless asked (`force`), and ENV=production unless asked
(`allow_production`).
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, func, select

from marketplace.accounts import profiles, security
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, AccountCreate, Role
from marketplace.calls import service as calls_service
from marketplace.calls.schemas import CallCreate, ProposalCreate, TeamMemberIn
from marketplace.catalog import collaborators, upload
from marketplace.catalog.models import Work, WorkStatus
from marketplace.catalog.schemas import CollaboratorIn, WorkCreate
from marketplace.core import db
from marketplace.core.config import Settings
from marketplace.core.db import utcnow
from marketplace.core.exceptions import MarketplaceError
from marketplace.demo import content, media
from marketplace.exhibitions import service as exhibitions_service
from marketplace.exhibitions.schemas import ExhibitionCreate
from marketplace.minting import service as minting_service
from marketplace.minting.models import MintJob, MintJobStatus
from marketplace.organisations import service as organisations_service
from marketplace.payments import checkout as checkout_flow
from marketplace.payments import webhooks
from marketplace.payments.models import Purchase, PurchaseStatus
from marketplace.payouts import service as payouts_service
from marketplace.payouts.models import Payout, PayoutStatus
from marketplace.resale import service as resale_service
from marketplace.services import (
    Services,
    build_delivery_worker,
    build_indexer,
    build_mint_worker,
    build_payout_worker,
)

log = logging.getLogger(__name__)
TEST_CARD = "4242424242424242"  # Stripe's (and the double's) card that pays
STEP_TIMEOUT_S = 120.0  # a worker's queue not drained by then: the seed fails, saying which


class SeedRefused(Exception):
    """The seed will not run here; nothing was changed. `reason`: not_empty (the database has accounts),
    production (ENV=production) or service (the chain, IPFS or the Stripe double is missing)."""

    def __init__(self, message: str, *, reason: str = "service") -> None:
        super().__init__(message)
        self.reason = reason


class SeedFailed(Exception):
    """Something the seed drove did not finish (a mint, a delivery, a payout): what was made so far stays."""


@dataclass
class SeedReport:
    """What the seed made (counts), the accounts to sign in with, and how long it took."""

    accounts: int = 0
    creators: int = 0
    buyers: int = 0
    disciplines: set[str] = field(default_factory=set)
    organisations: dict[str, int] = field(default_factory=dict)  # kind -> how many
    works: int = 0
    minted: int = 0
    drafts: int = 0
    co_created: int = 0
    editions: int = 0
    sales: int = 0  # primary purchases delivered (editions included)
    resales: int = 0
    calls: int = 0
    proposals: int = 0
    awarded_calls: int = 0
    payouts_paid: int = 0
    exhibitions: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)  # e-mail -> account id

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.organisations.items()))
        return (f"{self.creators} creators in {len(self.disciplines)} disciplines, {self.buyers} buyers; "
                f"organisations: {kinds}; {self.works} works ({self.minted} on chain, {self.drafts} drafts, "
                f"{self.co_created} co-created, {self.editions} in editions); {self.sales} sales, "
                f"{self.resales} resales, {self.payouts_paid} payouts; {self.calls} calls with {self.proposals} "
                f"proposals ({self.awarded_calls} awarded); {self.exhibitions} exhibitions; "
                f"in {self.seconds:.1f} s")


# ------------------------------------------------------------------------------------------------ refusals
def check_may_seed(*, session: Session, settings: Settings, force: bool = False,
                   allow_production: bool = False) -> None:
    """SeedRefused unless the seed may run on this database: not production unless `allow_production`; no accounts
    unless `force` (and even then none of the demo's e-mails: the demo is there already)."""
    if settings.env == "production" and not allow_production:
        raise SeedRefused("ENV=production: the demo data is not seeded into a production database unless asked "
                          "(--allow-production)", reason="production")
    has_accounts = session.exec(select(Account.id).limit(1)).first() is not None
    if has_accounts and not force:
        raise SeedRefused("the database has accounts already: the demo is seeded into an empty database only "
                          "(--force to add it anyway)", reason="not_empty")
    if has_accounts:
        emails = [p.email for p in (*content.CREATORS, *content.BUYERS, content.ADMIN)]
        if session.exec(select(Account.id).where(col(Account.email).in_(emails)).limit(1)).first() is not None:
            raise SeedRefused("the demo's accounts exist already in this database: nothing to add",
                              reason="not_empty")


class _Double:
    """The Stripe double's hosted page and controls, over HTTP (what a buyer's browser and the dashboard do), and
    its events handed to the product's webhook handling: the seed completes the checkouts it opens."""

    def __init__(self, api_base: str) -> None:
        self.base = api_base.rstrip("/")
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._seen: set[str] = set()

    def _post(self, url: str, data: dict | None = None) -> int:
        request = urllib.request.Request(url, data=urllib.parse.urlencode(data or {}).encode(), method="POST")
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:  # the 303 back to success_url arrives here (no redirects followed)
            return exc.code

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.base}{path}", timeout=30) as response:
            return json.loads(response.read())

    def check(self) -> None:
        try:
            self._get("/_double/health")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SeedRefused(
                f"no Stripe double at STRIPE_API_BASE={self.base} ({exc}): the demo's sales are paid on the "
                "double's hosted checkout page (make run starts it; a real Stripe cannot pay a Checkout Session "
                "by API)") from None
        self._seen = {item["event"]["id"] for item in self._get("/_double/events")["data"]}  # not the seed's

    def pay(self, checkout_url: str) -> None:
        status = self._post(f"{checkout_url.rstrip('/')}/pay", {"card": TEST_CARD})
        if status != 303:
            raise SeedFailed(f"the hosted checkout page answered {status} to Pay ({checkout_url})")

    def complete_onboarding(self, stripe_account_id: str) -> None:
        status = self._post(f"{self.base}/_double/accounts/{stripe_account_id}/complete_onboarding")
        if status != 200:
            raise SeedFailed(f"the double answered {status} to completing {stripe_account_id}'s onboarding")

    def feed_events(self, settings: Settings) -> int:
        """Every event the double sent since the last call, oldest first, to the product's webhook handling (the
        function POST /api/stripe/webhook runs after checking the signature). The double also posts them to the
        app's endpoint when one is up: the second copy is recorded as a duplicate."""
        fed = 0
        for item in self._get("/_double/events")["data"]:
            event = item["event"]
            if event["id"] in self._seen:
                continue
            self._seen.add(event["id"])
            with db.session_scope() as session:
                webhooks.handle_stripe_event(session=session, event=event, fee_bps=settings.platform_fee_bps)
            fed += 1
        return fed


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _drain(what: str, step: Callable[[], int], done: Callable[[], bool], timeout_s: float = STEP_TIMEOUT_S) -> None:
    """Run a worker's own step until `done()`: the worker does the work, the seed only does not wait for its
    poll interval."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SeedFailed(f"{what} did not finish in {timeout_s:.0f} s")
        if not step():
            time.sleep(0.05)


def _count(model, *where) -> int:
    with db.session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


# ------------------------------------------------------------------------------------------------ the seed
def seed_sector(*, session: Session, services: Services, settings: Settings, force: bool = False,
                allow_production: bool = False, say: Callable[[str], None] = log.info) -> SeedReport:
    """Seed the demo sector (see the module's text). SeedRefused before anything changes when it may not run or
    a service is missing; SeedFailed when a worker's queue did not drain. Returns what it made."""
    started = time.monotonic()
    check_may_seed(session=session, settings=settings, force=force, allow_production=allow_production)
    if services.chain is None:
        raise SeedRefused("no chain: CONTRACT_ADDRESS is not set (make run deploys the contract on a local anvil)")
    try:
        services.chain.ping()
    except MarketplaceError as exc:
        raise SeedRefused(f"the chain is not reachable at {settings.rpc_url}: {exc.message}") from None
    try:
        services.ipfs.version()
    except MarketplaceError as exc:
        raise SeedRefused(f"IPFS is not reachable at {settings.ipfs_api_url}: {exc.message}") from None
    double = _Double(settings.stripe_api_base)
    double.check()
    say("seeding the demo sector…")
    seeder = _Seeder(session=session, services=services, settings=settings, double=double, say=say)
    seeder.run()
    seeder.report.seconds = time.monotonic() - started
    return seeder.report


class _Seeder:
    def __init__(self, *, session: Session, services: Services, settings: Settings, double: _Double,
                 say: Callable[[str], None]) -> None:
        self.session, self.services, self.settings, self.double, self.say = session, services, settings, double, say
        self.rng = random.Random(content.RNG_SEED)
        self.report = SeedReport()
        self.accounts: dict[str, Account] = {}
        self.works: list[Work] = []
        self.mint_worker = build_mint_worker(services)
        self.delivery = build_delivery_worker(services)
        self.payouts = build_payout_worker(services)
        self.indexer = build_indexer(services)
        self._clock = time.monotonic()

    def _lap(self, name: str) -> None:
        now = time.monotonic()
        self.report.timings[name] = round(now - self._clock, 2)
        self._clock = now
        self.say(f"{name}: {self.report.timings[name]:.1f} s")

    def run(self) -> None:
        self.people()
        self._lap("accounts")
        self.organisations()
        self.uploads()
        self._lap("uploads")
        self.co_creations()
        self.mint()
        self._lap("mint")
        self.onboard()
        self._lap("onboarding")
        sold = self.primary_sales()
        self._lap("sales")
        self.resales(sold)
        self._lap("resales")
        self.calls()
        self._lap("calls")
        self.pay_out()
        self._lap("payouts")
        self.exhibitions()
        self.indexer.catch_up()
        self._lap("index")

    # ---------------------------------------------------------------------------------- accounts and profiles
    def people(self) -> None:
        secret = self.settings.wallet_secret.get_secret_value()
        # one Argon2 hash for the one demo password (a public one): hashing it per account would be most of the
        # seed's time, and register takes a hash made already (as sign-up's hashing pool gives it)
        password_hash = security.hash_password(content.DEMO_PASSWORD)
        for person in (content.ADMIN, *content.CREATORS, *content.BUYERS):
            account = accounts_service.register(
                session=self.session,
                account_in=AccountCreate(email=person.email, password=content.DEMO_PASSWORD,
                                         display_name=person.name, role=Role(person.role)),
                wallet_secret=secret, allow_admin=True, password_hash=password_hash,
                # the demo's addresses are verified from the start: their notice mails show in the mail sink
                on_created=lambda _session, created: setattr(created, "email_verified_at", utcnow()))
            self.accounts[person.email] = account
            self.report.emails[person.email] = account.id
            if person.role == "creator":
                slug = person.email.split("@")[0].replace(".", "-")
                profiles.update_profile(session=self.session, account=account, profile_in=profiles.ProfileIn(
                    bio=person.bio, location=person.location, links=[f"https://{slug}.example.lu"],
                    disciplines=list(person.disciplines), skills=list(person.skills)))
        self.report.accounts = len(self.accounts)
        self.report.creators = len(content.CREATORS)
        self.report.buyers = len(content.BUYERS)
        self.report.disciplines = {d for p in content.CREATORS for d in p.disciplines}

    def organisations(self) -> None:
        for org in content.ORGANISATIONS:
            row = organisations_service.create_organisation(
                self.session, name=org.name, kind=org.kind, description=org.description, city=org.city,
                website=org.website)
            for position, email in enumerate(org.members):
                organisations_service.add_member(self.session, organisation=row, account_id=self.accounts[email].id,
                                                 role="admin" if position == 0 else "member")
            self.report.organisations[org.kind] = self.report.organisations.get(org.kind, 0) + 1

    # ---------------------------------------------------------------------------------- works
    def _media(self, seed: int, discipline: str, title: str, author: str) -> tuple[bytes, str, bytes | None]:
        """(the file, its name, a cover or None) for a work of this discipline."""
        kinds = content.MEDIA_OF[discipline]
        kind = kinds[seed % len(kinds)]
        stem = f"work-{seed:03d}"
        if kind == "poster":
            return media.poster(seed), f"{stem}.png", None
        if kind == "photo":
            return media.photo(seed), f"{stem}.jpg", None
        if kind == "film":  # a still of the film (the demo makes no video)
            return media.cover(seed, title, size=480), f"{stem}-still.png", None
        if kind == "audio":
            return media.tune(seed), f"{stem}.wav", media.cover(seed, title)
        if kind == "model":
            return media.model(seed, title), f"{stem}.gltf", None
        paragraphs = [f"{title}, by {author}.", ("Made in Luxembourg for the creative marketplace's demo: a short "
                      "document standing for a book, a screenplay or a set of plans."),
                      f"Discipline: {discipline}. Edition of the demo sector, {seed}."]
        return media.document(seed, title, author, paragraphs), f"{stem}.pdf", None

    def uploads(self) -> None:
        """Each creator uploads WORKS_PER_CREATOR works (round by round, so the gallery's newest mixes them); a few
        of the last round stay drafts, four are sold in numbered editions (their edition size is the upload's)."""
        creators = list(content.CREATORS)
        total = len(creators) * content.WORKS_PER_CREATOR
        draft_slots = set(range(total - 1, total - 1 - 7 * content.DRAFTS, -7))
        edition_slots = self.rng.sample([i for i in range(total) if i not in draft_slots], len(content.EDITIONS))
        edition_size = {slot: size for slot, (size, _sold) in zip(edition_slots, content.EDITIONS, strict=True)}
        self.drafts: set[int] = set()
        self.edition_works: list[Work] = [None] * len(edition_slots)  # type: ignore[list-item]
        specs = []
        for n in range(total):
            person = creators[n % len(creators)]
            discipline = person.disciplines[(n // len(creators)) % len(person.disciplines)]
            first, second = content.TITLE_WORDS[discipline]
            title = f"{self.rng.choice(first)} {self.rng.choice(second)}"
            price = self.rng.choice((900, 1500, 2500, 4500, 7500, 12000, 18000, 25000, 40000))
            royalty = self.rng.choice(content.ROYALTY_BPS)
            specs.append((person, discipline, title, price, royalty))
        # the media first, two at a time (Pillow and zlib let go of the GIL while they encode); each from its own seed
        with ThreadPoolExecutor(max_workers=2) as pool:
            made = list(pool.map(lambda n: self._media(n + 1, specs[n][1], specs[n][2], specs[n][0].name),
                                 range(total)))
        for n, ((person, discipline, title, price, royalty), (data, filename, cover)) in enumerate(
                zip(specs, made, strict=True)):
            licence = content.LICENCE_ROTATION[n % len(content.LICENCE_ROTATION)]
            work = upload.upload_work(
                session=self.session, creator=self.accounts[person.email],
                work_in=WorkCreate(title=title, description=f"{title}. {person.bio.splitlines()[0]}",
                                   discipline=discipline, price_cents=price, license=licence, royalty_bps=royalty,
                                   edition_size=edition_size.get(n, 1)),
                source=io.BytesIO(data), filename=filename, staging_dir=self.settings.media_dir / "staging",
                max_bytes=self.settings.max_upload_bytes, thumbnail_px=self.settings.thumbnail_px,
                ipfs=self.services.ipfs, cover=io.BytesIO(cover) if cover else None,
                max_cover_bytes=self.settings.max_cover_bytes)
            self.works.append(work)
            if n in draft_slots:
                self.drafts.add(work.id)
            if n in edition_size:
                self.edition_works[edition_slots.index(n)] = work
        self.report.works = len(self.works)
        self.report.drafts = len(self.drafts)
        self.report.editions = len(self.edition_works)

    def co_creations(self) -> None:
        """Some works get two or three creators, their shares and roles named by the uploader, each accepted."""
        by_email = {p.email: p for p in content.CREATORS}
        email_of = {a.id: e for e, a in self.accounts.items()}
        editions = {w.id for w in self.edition_works}
        candidates = [w for w in self.works if w.id not in self.drafts and w.id not in editions]
        chosen = self.rng.sample(candidates, content.CO_CREATED)
        creator_ids = [self.accounts[p.email].id for p in content.CREATORS]
        for i, work in enumerate(chosen):
            uploader = by_email[email_of[work.creator_id]]
            others = [cid for cid in creator_ids if cid != work.creator_id]
            team = self.rng.sample(others, 1 if i % 3 else 2)
            shares = (6000, 4000) if len(team) == 1 else (5000, 3000, 2000)
            roles = [uploader.skills[0] if uploader.skills else "creator"] + [
                (by_email[email_of[cid]].skills or ("co-creator",))[0] for cid in team]
            entries = [CollaboratorIn(user_id=cid, share_bps=share, role=role)
                       for cid, share, role in zip([work.creator_id, *team], shares, roles, strict=True)]
            collaborators.set_collaborators(self.session, work=work, account=self.accounts[uploader.email],
                                            entries=entries)
            for cid in team:
                collaborators.respond(self.session, work=work, account=self.accounts[email_of[cid]], accept=True)
        self.report.co_created = len(chosen)

    def mint(self) -> None:
        """Each work but the drafts: minted (the editions listed), by the mint worker's own steps (its batches)."""
        creators = {a.id: a for a in self.accounts.values()}
        for work in self.works:
            if work.id in self.drafts:
                continue
            self.session.refresh(work)
            minting_service.request_mint(session=self.session, work=work, creator=creators[work.creator_id],
                                         ipfs=self.services.ipfs, chain=self.services.chain,
                                         public_base_url=self.settings.public_base_url)
        self.session.commit()
        _drain("minting", self.mint_worker.run_once, lambda: _count(MintJob, col(MintJob.status).in_(
            (MintJobStatus.pending, MintJobStatus.submitted))) == 0)
        failed = _count(MintJob, MintJob.status == MintJobStatus.failed)
        if failed:
            raise SeedFailed(f"{failed} mints failed")
        self.session.expire_all()
        self.report.minted = self.session.exec(select(func.count()).select_from(Work).where(
            Work.status == WorkStatus.minted)).one()
        self.indexer.catch_up()

    # ---------------------------------------------------------------------------------- money
    def onboard(self) -> None:
        """Most creators open their Stripe connected account and finish onboarding on Stripe's page (the double's
        control presses Complete onboarding); three leave it for later (their earnings wait)."""
        for i, person in enumerate(content.CREATORS):
            if i % 11 == 10:
                continue
            account = self.accounts[person.email]
            payouts_service.start_onboarding(session=self.session, account=account, gateway=self.services.gateway,
                                             public_base_url=self.settings.public_base_url)
            row = payouts_service.payout_account(self.session, account.id)
            self.double.complete_onboarding(row.stripe_account_id)
        self.double.feed_events(self.settings)

    def _checkout(self, work: Work, buyer: Account) -> Purchase:
        return checkout_flow.start_checkout(
            session=self.session, work=work, buyer=buyer, wallet_address=None, gateway=self.services.gateway,
            license_accepted=True, immediate_supply=True, public_base_url=self.settings.public_base_url,
            expires_minutes=self.settings.checkout_expires_minutes,
            url_secret=self.settings.auth_secret.get_secret_value())

    def _settle(self, purchases: list[Purchase]) -> None:
        """Pay each on the hosted page, hand the double's events to the webhook handling, deliver by the delivery
        worker's own batches."""
        for purchase in purchases:
            self.double.pay(purchase.checkout_url)
        self.double.feed_events(self.settings)
        ids = [p.id for p in purchases]
        _drain("delivery", self.delivery.run_once,
               lambda: _count(Purchase, col(Purchase.id).in_(ids), col(Purchase.status).in_(
                   (PurchaseStatus.pending, PurchaseStatus.paid))) == 0)
        undelivered = _count(Purchase, col(Purchase.id).in_(ids), Purchase.status != PurchaseStatus.delivered)
        if undelivered:
            raise SeedFailed(f"{undelivered} purchases were not delivered")
        self.indexer.catch_up()  # the owners the pages (and a listing's checks) read

    def primary_sales(self) -> list[tuple[Work, Account]]:
        buyers = [self.accounts[p.email] for p in content.BUYERS]
        editions = {w.id for w in self.edition_works}
        unique = [w for w in self.works if w.id not in self.drafts and w.id not in editions]
        sold = self.rng.sample(unique, content.PRIMARY_SALES)
        purchases: list[Purchase] = []
        pairs: list[tuple[Work, Account]] = []
        for i, work in enumerate(sold):
            self.session.refresh(work)
            buyer = buyers[i % len(buyers)]
            purchases.append(self._checkout(work, buyer))
            pairs.append((work, buyer))
        for work, (_size, n_sold) in zip(self.edition_works, content.EDITIONS, strict=True):
            self.session.refresh(work)
            for k in range(n_sold):
                purchases.append(self._checkout(work, buyers[(k + 1) % len(buyers)]))
        self._settle(purchases)
        self.report.sales = len(purchases)
        return pairs

    def resales(self, sold: list[tuple[Work, Account]]) -> None:
        """Some collectors list a token they bought, and another buyer buys it: the creators' royalty is booked."""
        buyers = [self.accounts[p.email] for p in content.BUYERS]
        with_royalty = [(w, b) for w, b in sold if w.royalty_bps]
        purchases = []
        for i, (work, seller) in enumerate(with_royalty[:content.RESALES]):
            self.session.refresh(work)
            listing = resale_service.create_listing(session=self.session, seller=seller, token_id=int(work.token_id),
                                                    price_cents=work.price_cents * 3 // 2, chain=self.services.chain)
            buyer = next(b for b in buyers[i + 1:] + buyers if b.id != seller.id)
            purchases.append(resale_service.start_checkout(
                session=self.session, listing_id=listing.id, buyer=buyer, gateway=self.services.gateway,
                license_accepted=True, immediate_supply=True, public_base_url=self.settings.public_base_url,
                expires_minutes=self.settings.checkout_expires_minutes,
                url_secret=self.settings.auth_secret.get_secret_value()))
        self._settle(purchases)
        self.report.resales = len(purchases)
        # one more collector lists a token and waits for a buyer: the gallery shows "Resale from"
        work, seller = with_royalty[content.RESALES]
        self.session.refresh(work)
        resale_service.create_listing(session=self.session, seller=seller, token_id=int(work.token_id),
                                      price_cents=work.price_cents * 2, chain=self.services.chain)

    def calls(self) -> None:
        """Open calls with teams' proposals, every member accepting; the first call awarded and its budget paid."""
        deadline = utcnow() + timedelta(days=30)
        for index, ((title, brief, disciplines, budget, caller), proposals) in enumerate(
                zip(content.CALLS, content.PROPOSALS, strict=True)):
            call = calls_service.create_call(session=self.session, caller=self.accounts[caller], call_in=CallCreate(
                title=title, brief=brief, disciplines=list(disciplines), budget_cents=budget, deadline=deadline))
            self.report.calls += 1
            first = None
            for author, team, ptitle, pitch in proposals:
                proposal = calls_service.submit_proposal(
                    session=self.session, call=call, author=self.accounts[author], proposal_in=ProposalCreate(
                        title=ptitle, pitch=pitch, team=[TeamMemberIn(user_id=self.accounts[e].id, share_bps=s,
                                                                      role=r) for e, s, r in team]))
                for email, _share, _role in team[1:]:
                    calls_service.respond(session=self.session, call=call, proposal_id=proposal.id,
                                          member=self.accounts[email], accept=True)
                first = first or proposal
                self.report.proposals += 1
            if index == 0:
                calls_service.award(session=self.session, call=call, proposal_id=first.id,
                                    caller=self.accounts[caller])
                self.report.awarded_calls += 1
                purchase = checkout_flow.start_call_checkout(
                    session=self.session, call_id=call.id, buyer=self.accounts[caller],
                    gateway=self.services.gateway, public_base_url=self.settings.public_base_url,
                    expires_minutes=self.settings.checkout_expires_minutes,
                    url_secret=self.settings.auth_secret.get_secret_value())
                self.double.pay(purchase.checkout_url)
                self.double.feed_events(self.settings)

    def pay_out(self) -> None:
        """The payout worker's own steps: every onboarded creator's credits transferred to their Stripe account."""
        def step() -> int:
            moved = self.payouts.run_once()
            self.double.feed_events(self.settings)
            return moved

        pending = (PayoutStatus.pending, PayoutStatus.sending)
        _drain("payouts", step, lambda: _count(Payout, col(Payout.status).in_(pending), col(Payout.account_id).in_(
            self._onboarded_ids())) == 0 and _count(Payout) > 0)
        self.report.payouts_paid = _count(Payout, Payout.status == PayoutStatus.paid)

    def _onboarded_ids(self) -> list[int]:
        return [a.id for e, a in self.accounts.items()
                if (row := payouts_service.payout_account(self.session, a.id)) is not None
                and payouts_service.status_of(row) == payouts_service.AccountStatus.enabled]

    def exhibitions(self) -> None:
        admin = self.accounts[content.ADMIN.email]
        today = exhibitions_service.today()
        minted = [w for w in self.works if w.id not in self.drafts]
        for slug, title, text, kind, starts_in, days, place, disciplines in content.EXHIBITIONS:
            starts = today + timedelta(days=starts_in)
            exhibition = exhibitions_service.create_exhibition(
                session=self.session, admin=admin, exhibition_in=ExhibitionCreate(
                    slug=slug, title=title, text=text, starts_on=starts, ends_on=starts + timedelta(days=days - 1),
                    place=place, event_kind=kind))
            for work in [w for w in minted if w.discipline in disciplines][:6]:
                exhibitions_service.add_work(session=self.session, exhibition=exhibition, work_id=work.id)
            self.report.exhibitions += 1
