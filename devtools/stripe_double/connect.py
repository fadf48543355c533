"""Stripe Connect in the double, "separate charges and transfers": Express connected accounts, account links to a
hosted onboarding page, transfers from the platform's charges, transfer reversals and balances.

A mixin of `Store` (same lock, same events, same rendering). Money is integer minor units (cents) throughout; the
double adds and subtracts them and never rounds. Balances are simplified: a succeeded charge is available to the
platform at once (no pending period, no Stripe fees), a connected account's balance is what was transferred to it
minus what was reversed (no payouts).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from devtools.stripe_double import errors
from devtools.stripe_double import params as p
from devtools.stripe_double.ids import NO_REQUEST, RequestContext, new_id

LINK_LIFETIME_S = 300  # Stripe's account links expire after a few minutes
# What Stripe asks a new Express account (an individual in the EU) before it can receive transfers.
ONBOARDING_REQUIREMENTS = [
    "business_profile.mcc", "business_profile.url", "business_type", "external_account",
    "individual.address.city", "individual.address.line1", "individual.address.postal_code", "individual.dob.day",
    "individual.dob.month", "individual.dob.year", "individual.email", "individual.first_name",
    "individual.last_name", "individual.phone", "tos_acceptance.date", "tos_acceptance.ip",
]
RESTRICTED_REQUIREMENTS = ["individual.verification.document"]
_EURO_COUNTRIES = {"AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV", "MT",
                   "NL", "PT", "SI", "SK"}
_CURRENCIES = {"GB": "gbp", "CH": "chf", "US": "usd", "DK": "dkk", "SE": "sek", "NO": "nok", "PL": "pln",
               "CZ": "czk", "HU": "huf", "RO": "ron", "BG": "bgn"}
PLATFORM_CURRENCY = "eur"
INSUFFICIENT_PLATFORM_FUNDS = (
    "You have insufficient available funds in your Stripe account. Try adding funds directly to your available "
    "balance by creating Charges using the 4000000000000077 test card. See: "
    "https://stripe.com/docs/testing#available-balance")
NO_TRANSFER_CAPABILITY = ("Your destination account needs to have at least one of the following capabilities "
                          "enabled: transfers, crypto_transfers, legacy_payments")


def _requirements(due: list[str], disabled_reason: str | None) -> dict[str, Any]:
    return {"alternatives": [], "current_deadline": None, "currently_due": list(due),
            "disabled_reason": disabled_reason, "errors": [], "eventually_due": list(due), "past_due": list(due),
            "pending_verification": []}


class ConnectStore:
    """Accounts, account links, transfers, reversals and balances (mixed into `Store`)."""

    _lock: threading.RLock
    public_url: str
    charges: dict[str, dict[str, Any]]
    refunds: dict[str, dict[str, Any]]
    now: Callable[[], int]
    _emit: Callable[..., None]
    _render: Callable[[dict[str, Any], list[str]], dict[str, Any]]
    _page: Callable[..., dict[str, Any]]

    def _clear_connect(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_links: dict[str, dict[str, Any]] = {}  # token -> link record (the URL's last segment)
        self.transfers: dict[str, dict[str, Any]] = {}
        self.reversals: dict[str, dict[str, Any]] = {}
        self.failing_reversals: dict[str, list[str]] = {}  # account -> error codes of its next reversals
        # running sums, so that a transfer costs the same whether it is the first or the 10,000th
        self.transferred_from: dict[str, int] = {}  # charge -> the amounts of every transfer from it
        self.net_transferred: dict[str, int] = {}  # currency -> transfers - reversals
        self.payouts: dict[str, dict[str, Any]] = {}  # connected accounts' payouts to their banks (a control)

    def _connect_objects(self) -> dict[str, Any]:
        return {"accounts": list(self.accounts.values()), "account_links": list(self.account_links.values()),
                "transfers": list(self.transfers.values()), "transfer_reversals": list(self.reversals.values()),
                "payouts": list(self.payouts.values())}

    # -- accounts -----------------------------------------------------------------------------------------------

    def create_account(self, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        expand = p.expand(raw)
        values = p.account_create(raw)
        with self._lock:
            account_id = new_id("acct_1", 15)
            country = values["country"]
            account = {
                "id": account_id,
                "object": "account",
                "business_profile": {"annual_revenue": None, "estimated_worker_count": None, "mcc": None,
                                     "name": None, "product_description": None, "support_address": None,
                                     "support_email": None, "support_phone": None, "support_url": None,
                                     "url": None},
                "business_type": values["business_type"],
                "capabilities": {name: "inactive" for name, wanted in values["capabilities"].items() if wanted},
                "charges_enabled": False,
                "controller": {"fees": {"payer": "application_express"}, "is_controller": True,
                               "losses": {"payments": "application"}, "requirement_collection": "stripe",
                               "stripe_dashboard": {"type": "express"}, "type": "application"},
                "country": country,
                "created": self.now(),
                "default_currency": values["default_currency"] or (
                    "eur" if country in _EURO_COUNTRIES else _CURRENCIES.get(country, "usd")),
                "details_submitted": False,
                "email": values["email"],
                "external_accounts": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                                      "url": f"/v1/accounts/{account_id}/external_accounts"},
                "future_requirements": _requirements([], None),
                "metadata": values["metadata"],
                "payouts_enabled": False,
                "requirements": _requirements(ONBOARDING_REQUIREMENTS, "requirements.past_due"),
                "settings": {"payouts": {"debit_negative_balances": True,
                                         "schedule": {"delay_days": 7, "interval": "daily"},
                                         "statement_descriptor": None}},
                "tos_acceptance": {"date": None},
                "type": values["type"],
            }
            self.accounts[account_id] = account
            return self._render(account, expand)

    def list_accounts(self, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand", "created"})
        with self._lock:
            items = [a for a in reversed(self.accounts.values()) if p.created_matches(a, raw.get("created"))]
            return self._page(items, "/v1/accounts", raw, "account")

    def _account(self, account_id: str) -> dict[str, Any]:
        account = self.accounts.get(account_id)
        if account is None:
            raise errors.resource_missing("account", account_id, "account")
        return account

    def check_account_header(self, account_id: str, api_key: str) -> None:
        """A `Stripe-Account` header must name a connected account of this platform (Stripe answers 403)."""
        with self._lock:
            if account_id not in self.accounts:
                masked = api_key[:8] + "*" * max(0, len(api_key) - 12) + api_key[-4:]
                raise errors.StripeError(
                    f"The provided key '{masked}' does not have access to account '{account_id}' (or that account "
                    "does not exist). Application access may have been revoked.", status=403,
                    code="account_invalid")

    def retrieve_account(self, account_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            return self._render(self._account(account_id), expand)

    def update_account(self, account_id: str, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        expand = p.expand(raw)
        values = p.account_update(raw)
        with self._lock:
            account = self._account(account_id)
            previous: dict[str, Any] = {}
            if "metadata" in values:
                to_set, to_unset = values["metadata"]
                metadata = {} if to_unset is None else {k: v for k, v in account["metadata"].items()
                                                        if k not in to_unset}
                metadata.update(to_set)
                if metadata != account["metadata"]:
                    previous["metadata"] = account["metadata"]
                    account["metadata"] = metadata
            for field in ("email", "business_type", "default_currency"):
                if field in values and values[field] != account[field]:
                    previous[field] = account[field]
                    account[field] = values[field]
            if "capabilities" in values:
                capabilities = dict(account["capabilities"])
                for name, wanted in values["capabilities"].items():
                    if not wanted:
                        capabilities.pop(name, None)
                    elif name not in capabilities:
                        capabilities[name] = "active" if account["details_submitted"] and not \
                            account["requirements"]["disabled_reason"] else "inactive"
                if capabilities != account["capabilities"]:
                    previous["capabilities"] = account["capabilities"]
                    account["capabilities"] = capabilities
            if previous:
                self._emit("account.updated", account, ctx, previous_attributes=previous, account=account_id)
            return self._render(account, expand)

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The creator finished Stripe's onboarding: details submitted, charges and payouts enabled, the requested
        capabilities active, nothing due; `account.updated`."""
        with self._lock:
            account = self._account(account_id)
            return self._change_account(account, details_submitted=True, charges_enabled=True,
                                        payouts_enabled=True, capability="active", requirements=_requirements([], None))

    def restrict_account(self, account_id: str, due: list[str] | None = None,
                         disabled_reason: str = "requirements.past_due") -> dict[str, Any]:
        """Stripe wants more (`due` past due): payouts and charges disabled, the capabilities inactive (so
        transfers to it are refused); `account.updated`."""
        with self._lock:
            account = self._account(account_id)
            return self._change_account(account, charges_enabled=False, payouts_enabled=False,
                                        capability="inactive",
                                        requirements=_requirements(due or RESTRICTED_REQUIREMENTS, disabled_reason))

    def _change_account(self, account: dict[str, Any], *, capability: str, requirements: dict[str, Any],
                        **fields: Any) -> dict[str, Any]:
        changes = {**fields, "requirements": requirements,
                   "capabilities": {name: capability for name in account["capabilities"]}}
        previous = {k: copy.deepcopy(account[k]) for k, v in changes.items() if account[k] != v}
        account.update(copy.deepcopy(changes))
        if previous:
            self._emit("account.updated", account, NO_REQUEST, previous_attributes=previous, account=account["id"])
        return copy.deepcopy(account)

    def fail_next_reversal(self, account_id: str, code: str = "balance_insufficient") -> None:
        """The next reversal of a transfer to this account is refused (as when its balance cannot cover it)."""
        with self._lock:
            self._account(account_id)
            self.failing_reversals.setdefault(account_id, []).append(code)

    # -- account links and the hosted onboarding page -----------------------------------------------------------

    def create_account_link(self, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        values = p.account_link_create(raw)
        with self._lock:
            account = self.accounts.get(values["account"])
            if account is None:
                raise errors.resource_missing("account", values["account"], "account", status=400)
            if values["type"] == "account_update" and account["type"] == "express":
                raise errors.StripeError("You cannot create `account_update` type Account Links for Express "
                                         "accounts.", param="type")
            now = self.now()
            token = new_id("", 12)
            self.account_links[token] = {"token": token, "account": account["id"], "type": values["type"],
                                         "refresh_url": values["refresh_url"], "return_url": values["return_url"],
                                         "created": now, "expires_at": now + LINK_LIFETIME_S, "state": "new"}
            return {"object": "account_link", "created": now, "expires_at": now + LINK_LIFETIME_S,
                    "url": f"{self.public_url}/setup/e/{account['id']}/{token}"}

    def open_account_link(self, account_id: str, token: str) -> tuple[str, dict[str, Any]]:
        """The browser opens the link: ("page", account) the first time; ("refresh", link) if it is expired or was
        visited before (Stripe then sends the user to `refresh_url`). Unknown links raise resource_missing."""
        with self._lock:
            link = self._link(account_id, token)
            if link["state"] != "new" or link["expires_at"] <= self.now():
                return "refresh", copy.deepcopy(link)
            link["state"] = "visited"
            return "page", copy.deepcopy(self.accounts[account_id])

    def finish_account_link(self, account_id: str, token: str, action: str) -> tuple[str, str]:
        """A button on the page: ("return", return_url) after `complete`, ("refresh", refresh_url) after `leave` or
        for a link that is expired or already used."""
        with self._lock:
            link = self._link(account_id, token)
            if link["state"] == "done" or link["expires_at"] <= self.now():
                return "refresh", link["refresh_url"]
            link["state"] = "done"
            if action == "complete":
                self.complete_onboarding(account_id)
                return "return", link["return_url"]
            return "refresh", link["refresh_url"]

    def _link(self, account_id: str, token: str) -> dict[str, Any]:
        link = self.account_links.get(token)
        if link is None or link["account"] != account_id:
            raise errors.resource_missing("account_link", token, "url")
        return link

    # -- transfers and reversals --------------------------------------------------------------------------------

    def create_transfer(self, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        expand = p.expand(raw)
        values = p.transfer_create(raw)
        amount, currency = values["amount"], values["currency"]
        with self._lock:
            destination = self.accounts.get(values["destination"])
            if destination is None:
                raise errors.StripeError(f"No such destination: '{values['destination']}'", code="resource_missing",
                                         param="destination")
            if destination["capabilities"].get("transfers") != "active":
                raise errors.StripeError(NO_TRANSFER_CAPABILITY, code="insufficient_capabilities_for_transfer",
                                         param="destination")
            source = values["source_transaction"]
            if source is not None:
                self._check_source_charge(source, amount, currency)
            # with a source too: what other transfers took already is not there twice (a charge's funds are
            # available at once here, so the balance covers every transfer or the transfer is refused)
            if self._platform_available(currency) < amount:
                raise errors.StripeError(INSUFFICIENT_PLATFORM_FUNDS, code="balance_insufficient")
            transfer_id = new_id("tr_1")
            transfer = {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": new_id("txn_1"),
                "created": self.now(),
                "currency": currency,
                "description": values["description"],
                "destination": destination["id"],
                "destination_payment": new_id("py_1"),
                "livemode": False,
                "metadata": values["metadata"],
                "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                              "url": f"/v1/transfers/{transfer_id}/reversals"},
                "reversed": False,
                "source_transaction": source,
                "source_type": values["source_type"],
                "transfer_group": values["transfer_group"],
            }
            self.transfers[transfer_id] = transfer
            if source is not None:
                self.transferred_from[source] = self.transferred_from.get(source, 0) + amount
            self.net_transferred[currency] = self.net_transferred.get(currency, 0) + amount
            self._emit("transfer.created", transfer, ctx)
            return self._render(transfer, expand)

    def _check_source_charge(self, charge_id: str, amount: int, currency: str) -> None:
        """`source_transaction`: a succeeded charge of the platform, in the transfer's currency, and all the
        transfers from it together (reversed ones included, as on Stripe) at most its captured amount."""
        charge = self.charges.get(charge_id)
        if charge is None:
            raise errors.resource_missing("charge", charge_id, "source_transaction", status=400)
        if charge["status"] != "succeeded":
            raise errors.StripeError(f"The source_transaction {charge_id} has not succeeded (status: "
                                     f"{charge['status']}); only a succeeded charge can fund a transfer.",
                                     param="source_transaction")
        if charge["currency"] != currency:
            raise errors.StripeError(f"The currency of source_transaction's balance transaction "
                                     f"({charge['currency']}) must be the same as the transfer currency ({currency})",
                                     param="currency")
        already = self.transferred_from.get(charge_id, 0)
        if already + amount > charge["amount_captured"]:
            left = charge["amount_captured"] - already
            raise errors.StripeError(
                f"Insufficient funds on the source_transaction {charge_id}: the transfer amount "
                f"({p.format_amount(amount, currency)}) exceeds what is left to transfer from it "
                f"({p.format_amount(left, currency)} of {p.format_amount(charge['amount_captured'], currency)}).",
                code="balance_insufficient", param="amount")

    def retrieve_transfer(self, transfer_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            return self._render(self._transfer(transfer_id), expand)

    def _transfer(self, transfer_id: str) -> dict[str, Any]:
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            raise errors.resource_missing("transfer", transfer_id, "id")
        return transfer

    def update_transfer(self, transfer_id: str, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed=p.TRANSFER_UPDATE_KEYS)
        expand = p.expand(raw)
        with self._lock:
            transfer = self._transfer(transfer_id)
            previous: dict[str, Any] = {}
            if "metadata" in raw:
                to_set, to_unset = p.metadata_update(raw["metadata"])
                metadata = {} if to_unset is None else {k: v for k, v in transfer["metadata"].items()
                                                        if k not in to_unset}
                metadata.update(to_set)
                if metadata != transfer["metadata"]:
                    previous["metadata"] = transfer["metadata"]
                    transfer["metadata"] = metadata
            if "description" in raw:
                description = p.as_str(raw["description"], "description", max_length=5000)
                if description != transfer["description"]:
                    previous["description"] = transfer["description"]
                    transfer["description"] = description
            if previous:
                self._emit("transfer.updated", transfer, ctx, previous_attributes=previous)
            return self._render(transfer, expand)

    def list_transfers(self, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand", "created",
                                               "destination", "transfer_group"})
        with self._lock:
            items = [t for t in reversed(self.transfers.values())
                     if p.matches(t, raw, ("destination", "transfer_group"))]
            return self._page(items, "/v1/transfers", raw, "transfer")

    def create_reversal(self, transfer_id: str, raw: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        expand = p.expand(raw)
        values = p.reversal_create(raw)
        with self._lock:
            transfer = self._transfer(transfer_id)
            currency = transfer["currency"]
            remaining = transfer["amount"] - transfer["amount_reversed"]
            if remaining <= 0:
                raise errors.StripeError(f"Transfer {transfer_id} has already been fully reversed.",
                                         code="transfer_already_reversed")
            amount = values["amount"] if values["amount"] is not None else remaining
            if amount > remaining:
                raise errors.StripeError(
                    f"Transfer reversal amount ({p.format_amount(amount, currency)}) is greater than the amount not "
                    f"yet reversed on the transfer ({p.format_amount(remaining, currency)})",
                    code="amount_too_large", param="amount")
            failing = self.failing_reversals.get(transfer["destination"])
            if failing:
                code = failing.pop(0)
                raise errors.StripeError(
                    f"Insufficient funds in the connected account {transfer['destination']} to reverse this "
                    f"transfer ({p.format_amount(amount, currency)}).", code=code)
            # Stripe reverses a transfer only if the destination's balance covers it (payouts may have emptied it)
            available = self._connected_amounts(transfer["destination"]).get(currency, 0)
            if available < amount:
                raise errors.StripeError(
                    f"Insufficient funds in the connected account {transfer['destination']} to reverse this "
                    f"transfer: {p.format_amount(amount, currency)} asked, "
                    f"{p.format_amount(max(available, 0), currency)} available.", code="balance_insufficient")
            reversal = {
                "id": new_id("trr_1"),
                "object": "transfer_reversal",
                "amount": amount,
                "balance_transaction": new_id("txn_1"),
                "created": self.now(),
                "currency": currency,
                "destination_payment_refund": new_id("pyr_1"),
                "metadata": values["metadata"],
                "source_refund": None,
                "transfer": transfer_id,
            }
            self.reversals[reversal["id"]] = reversal
            self.net_transferred[currency] -= amount
            previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"],
                        "reversals": copy.deepcopy(transfer["reversals"])}
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
            embedded = transfer["reversals"]
            embedded["total_count"] += 1
            embedded["data"] = [copy.deepcopy(reversal), *embedded["data"]][:10]
            embedded["has_more"] = embedded["total_count"] > 10
            self._emit("transfer.reversed", transfer, ctx, previous_attributes=previous)
            return self._render(reversal, expand)

    def list_reversals(self, transfer_id: str, raw: dict[str, Any]) -> dict[str, Any]:
        p.check_keys(raw, prefix="", allowed={"limit", "starting_after", "ending_before", "expand"})
        with self._lock:
            self._transfer(transfer_id)
            items = [r for r in reversed(self.reversals.values()) if r["transfer"] == transfer_id]
            return self._page(items, f"/v1/transfers/{transfer_id}/reversals", raw, "transfer_reversal")

    def retrieve_reversal(self, transfer_id: str, reversal_id: str, expand: list[str]) -> dict[str, Any]:
        with self._lock:
            self._transfer(transfer_id)
            reversal = self.reversals.get(reversal_id)
            if reversal is None or reversal["transfer"] != transfer_id:
                raise errors.resource_missing("transfer_reversal", reversal_id, "id")
            return self._render(reversal, expand)

    # -- balances -----------------------------------------------------------------------------------------------

    def _platform_available(self, currency: str) -> int:
        """Succeeded charges - refunds - transfers + reversals, in `currency` (cents, exact)."""
        charged = sum(c["amount_captured"] for c in self.charges.values()
                      if c["status"] == "succeeded" and c["currency"] == currency)
        refunded = sum(r["amount"] for r in self.refunds.values() if r["currency"] == currency)
        return charged - refunded - self.net_transferred.get(currency, 0)

    def _connected_amounts(self, account_id: str) -> dict[str, int]:
        """A connected account's balance per currency: transfers - reversals - payouts (cents, exact)."""
        account = self._account(account_id)
        amounts = {account["default_currency"]: 0}
        for t in self.transfers.values():
            if t["destination"] == account_id:
                amounts[t["currency"]] = amounts.get(t["currency"], 0) + t["amount"] - t["amount_reversed"]
        for payout in self.payouts.values():
            if payout["account"] == account_id:
                amounts[payout["currency"]] = amounts.get(payout["currency"], 0) - payout["amount"]
        return amounts

    def pay_out(self, account_id: str, amount: int | None = None, currency: str | None = None) -> dict[str, Any]:
        """The connected account is paid out to its bank (a control: the double has no payout schedule):
        `amount` (default: all that is available) leaves its balance; `payout.created` and `payout.paid`."""
        with self._lock:
            account = self._account(account_id)
            currency = currency or account["default_currency"]
            available = self._connected_amounts(account_id).get(currency, 0)
            amount = available if amount is None else amount
            if amount <= 0 or amount > available:
                raise errors.StripeError(
                    f"Cannot pay out {p.format_amount(max(amount, 0), currency)}: "
                    f"{p.format_amount(available, currency)} available.", code="balance_insufficient")
            now = self.now()
            payout = {"id": new_id("po_1"), "object": "payout", "amount": amount, "arrival_date": now,
                      "automatic": True, "balance_transaction": new_id("txn_1"), "created": now,
                      "currency": currency, "description": "STRIPE PAYOUT", "destination": new_id("ba_1"),
                      "failure_code": None, "failure_message": None, "livemode": False, "metadata": {},
                      "method": "standard", "source_type": "card", "statement_descriptor": None, "status": "paid",
                      "type": "bank_account"}
            self.payouts[payout["id"]] = {**payout, "account": account_id}
            self._emit("payout.created", payout, NO_REQUEST, account=account_id)
            self._emit("payout.paid", payout, NO_REQUEST, account=account_id)
            return copy.deepcopy(payout)

    def balance(self, account_id: str | None) -> dict[str, Any]:
        """`GET /v1/balance`: the platform's, or with `Stripe-Account` the connected account's (its transfers minus
        their reversals, per currency)."""
        with self._lock:
            if account_id is None:
                currencies = {PLATFORM_CURRENCY} | {c["currency"] for c in self.charges.values()} | \
                    {t["currency"] for t in self.transfers.values()}
                amounts = {c: self._platform_available(c) for c in sorted(currencies)}
            else:
                amounts = self._connected_amounts(account_id)
            balance: dict[str, Any] = {
                "object": "balance",
                "available": [{"amount": amount, "currency": c, "source_types": {"card": amount}}
                              for c, amount in amounts.items()],
                "livemode": False,
                "pending": [{"amount": 0, "currency": c, "source_types": {"card": 0}} for c in amounts],
            }
            if account_id is None:
                balance["connect_reserved"] = [{"amount": 0, "currency": c} for c in amounts]
            return balance
