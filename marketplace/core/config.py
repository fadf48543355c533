"""Settings for the whole service, read once from the environment (prefix-free names, e.g. DATABASE_URL).

Development defaults let `marketplace dev` run with nothing configured. Outside `ENV=dev|test`, every secret must be
set explicitly: the service refuses to start with a development default (fail fast).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Well-known anvil dev account #0: funded on every local anvil, worthless anywhere else.
DEV_MINTER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_WALLET_SECRET = "dev-only-wallet-secret-do-not-use-in-production"
DEV_AUTH_SECRET = "dev-only-auth-secret-do-not-use-in-production"
DEV_STRIPE_KEY = "sk_test_dev_double_0000000000000000"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev_double_0000000000000000"
REAL_STRIPE_API = "https://api.stripe.com"

DISCIPLINES = (
    "design",
    "music",
    "photography",
    "film",
    "games",
    "architecture",
    "publishing",
    "fashion",
    "digital-art",
)
LICENSES = (
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "personal-use",
    "commercial-use",
)
from marketplace.core.limits import MAX_ROYALTY_BPS  # noqa: F401 - defined once, in limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("data")
    public_base_url: str = "http://127.0.0.1:8000"

    database_url: str = ""  # empty: SQLite file in data_dir
    rpc_url: str = "http://127.0.0.1:8545"
    # what GET /api/chain tells browsers and wallets; RPC_URL itself may carry a provider's API key, so outside
    # dev/test it is never shown unless set here
    public_rpc_url: str | None = None
    chain_id: int | None = None  # when set, the chain watcher refuses (no mints, no deliveries) a node with another
    contract_address: str | None = None  # empty in dev: deployed by `marketplace dev`
    # the Splits contract paying co-created works' royalties by share; empty in dev: deployed by `marketplace dev`
    splits_address: str | None = None
    minter_private_key: SecretStr = SecretStr(DEV_MINTER_KEY)
    # or the key read from this file (a mounted secret); it wins over MINTER_PRIVATE_KEY
    minter_private_key_file: Path | None = None
    # EIP-1559: no transaction offers more than this per gas, replacements of stuck ones included (unset: no cap;
    # required with ENV=production); the tip offered. A mint transaction still unmined after WORKER_STALE_SUBMIT_S
    # is re-sent with the same nonce and fees raised by 12.5 % (the mint worker's reconciliation), at most
    # MAX_REPLACEMENTS (3) times
    max_fee_per_gas_gwei: float | None = Field(default=None, gt=0)
    priority_fee_gwei: float = Field(default=1.0, ge=0)
    wallet_secret: SecretStr = SecretStr(DEV_WALLET_SECRET)
    auth_secret: SecretStr = SecretStr(DEV_AUTH_SECRET)
    access_token_minutes: int = 60 * 24

    ipfs_api_url: str = "/ip4/127.0.0.1/tcp/5001/http"
    ipfs_timeout_s: float = 30.0
    # the IPFS Pinning Service API (Pinata, Filebase, a Kubo `pin remote` service ...): every CID our node adds is
    # also pinned there, in the background, retried IPFS_PINNING_MAX_ATTEMPTS times (backoff doubling); unset: none
    ipfs_pinning_service_url: str | None = None
    ipfs_pinning_service_token: SecretStr | None = None
    ipfs_pinning_max_attempts: int = Field(default=8, ge=1, le=100)
    ipfs_pinning_backoff_s: float = Field(default=2.0, ge=0)
    # a pin the service keeps queued/pinning longer than this is given up on (failed, reported)
    ipfs_pinning_max_wait_s: float = Field(default=86400.0, gt=0)

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_cover_bytes: int = Field(default=10 * 1024 * 1024, gt=0)  # the cover image of an audio or video work
    thumbnail_px: int = 640
    max_avatar_bytes: int = Field(default=5 * 1024 * 1024, gt=0)  # a profile's avatar image, as uploaded
    avatar_px: int = Field(default=256, ge=32, le=1024)  # the avatar is stored resized: longest side in pixels
    # Images above this many pixels (all frames of an animation counted) are refused from their header, before any
    # decoding: a 300 kB PNG can decode to gigabytes. At most Pillow's own bomb threshold (89.5 Mpx).
    max_image_pixels: int = Field(default=40_000_000, gt=0, le=89_000_000)
    image_work_concurrency: int = Field(default=2, ge=1, le=64)  # images decoded at once (memory is bounded by it)

    mint_batch_size: int = Field(default=50, ge=1, le=200)
    mint_poll_interval_s: float = 0.2
    mint_max_attempts: int = 5
    # how long a worker's claim on a job holds (a crashed worker's claims wait this long), and when a sent
    # transaction with no receipt counts as lost and is looked for on chain
    worker_lease_s: float = Field(default=120.0, gt=0)
    worker_stale_submit_s: float = Field(default=15.0, ge=0)
    # a failed mint or delivery is retried after this, doubling with each attempt (at most a minute)
    job_retry_backoff_s: float = Field(default=1.0, ge=0)
    # mint transactions in flight at once: the next batch is signed and sent while the previous ones are mined (on
    # a chain with block times, about the batches that share a block); 1 = each batch mined before the next
    mint_pipeline_depth: int = Field(default=4, ge=1, le=16)
    run_mint_worker: bool = True  # the API process also runs the mint worker (dev default)
    run_delivery_worker: bool = True  # ... and the delivery worker (paid -> token to the buyer)

    # Stripe: the real SDK; in dev and tests its base points at the project's Stripe double.
    stripe_api_key: SecretStr = SecretStr(DEV_STRIPE_KEY)
    stripe_api_base: str = REAL_STRIPE_API
    stripe_webhook_secret: SecretStr = SecretStr(DEV_STRIPE_WEBHOOK_SECRET)
    # Connect events (account.updated) sent by a Connect webhook endpoint of their own are signed with its secret
    stripe_connect_webhook_secret: SecretStr | None = None
    stripe_max_network_retries: int = 2
    platform_fee_bps: int = Field(default=1000, ge=0, le=5000)  # the platform's share of each sale
    checkout_expires_minutes: int = Field(default=30, ge=30, le=24 * 60)  # Stripe allows 30 min .. 24 h
    delivery_max_attempts: int = 5
    delivery_batch_size: int = Field(default=50, ge=1, le=200)  # purchases claimed at once; one tx per seller
    custodial_gas_topup_wei: int = 10**16  # ETH the platform sends a custodial wallet to pay delivery gas
    # Payouts (Stripe Connect, separate charges and transfers): a creator's share is transferred this many days
    # after it was earned (a refund within the window needs no reversal); 0 locally
    payout_hold_days: int = Field(default=0, ge=0, le=90)
    payout_max_attempts: int = 5
    run_payout_worker: bool = True  # the API process also runs the payout worker (earnings -> transfers)

    # Abuse limits (the `limits` library's strings: "10/minute;100/hour"), each per account (the e-mail for sign-in
    # and sign-up) and per client address. Counted in memory (one process) or in Redis for several processes.
    rate_limit_storage_url: str = "memory://"  # e.g. redis://127.0.0.1:6379/0
    rate_limit_key_prefix: str = "marketplace"  # keys in a shared store are namespaced by this
    rate_limit_signin: str = "10/minute;100/hour"  # sign-in attempts per e-mail
    rate_limit_signin_address: str = "60/minute;1000/hour"  # sign-in attempts per client address
    rate_limit_register: str = "5/hour"  # sign-ups per e-mail
    rate_limit_register_address: str = "20/hour"  # sign-ups per client address
    rate_limit_checkout: str = "10/minute;60/hour"  # checkouts per buyer account
    rate_limit_checkout_address: str = "60/minute;600/hour"  # checkouts per client address
    # a failed sign-in answers after base * 2^(n-1) s (capped), n = recent failures of that e-mail or address
    signin_failure_delay_s: float = Field(default=0.25, ge=0)
    signin_failure_delay_max_s: float = Field(default=4.0, ge=0)
    signin_failure_window_s: int = Field(default=900, ge=1)  # how long a failure counts
    # Argon2 runs in its own small pool (never the server's shared one); callers beyond workers + queue get 503 now
    password_hash_workers: int = Field(default=2, ge=1, le=64)
    password_hash_queue: int = Field(default=16, ge=0)
    password_hash_nice: int = Field(default=10, ge=0, le=19)  # how much lower the hashing threads' CPU priority is
    body_read_timeout_s: float = Field(default=30.0, gt=0)  # longest wait for the next piece of a request body

    # What a buyer is owed (receipts, imprint, terms). Prices are VAT included; the receipt shows the VAT in them at
    # this rate (1700 = Luxembourg's standard 17 %).
    vat_rate_bps: int = Field(default=1700, ge=0, le=10_000)
    # The operator named on receipts, the imprint and the terms. PLACEHOLDERS until the company is registered:
    # set them for production (the pages say so while they are the defaults).
    operator_name: str = "[Operator company name] S.à r.l."
    operator_address: str = "[Street and number], L-[postcode] Luxembourg"
    operator_rcs: str = "B[000000]"  # Registre de Commerce et des Sociétés number
    operator_vat_id: str = "LU[00000000]"
    operator_email: str = "contact@example.lu"
    operator_manager: str = "[Name of the managing director]"

    @field_validator("rate_limit_signin", "rate_limit_signin_address", "rate_limit_register",
                     "rate_limit_register_address", "rate_limit_checkout", "rate_limit_checkout_address",
                     "rate_limit_mail", "rate_limit_mail_address", "rate_limit_report", "rate_limit_report_address")
    @classmethod
    def _rate_limit_string(cls, value: str) -> str:
        from limits import parse_many  # fail fast at start on a limit the library cannot read

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '10/minute;100/hour': {value!r}") from exc
        return value
    # Mail: sent over SMTP by the mail worker from the outbox (`make run` starts the dev tools' mail sink and points
    # SMTP_HOST/SMTP_PORT at it). smtp_user empty: no login.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    mail_from: str = "Creative Marketplace <no-reply@marketplace.local>"
    run_mail_worker: bool = True  # the API process also sends the outbox (dev default)
    mail_poll_interval_s: float = Field(default=1.0, gt=0)
    mail_batch_size: int = Field(default=20, ge=1, le=200)
    mail_max_attempts: int = Field(default=20, ge=1)  # then the outbox row is failed (backoff doubles, capped 5 min)
    # single-use links mailed to an account
    email_verification_hours: int = Field(default=72, ge=1)
    password_reset_minutes: int = Field(default=60, ge=1)
    siwe_nonce_minutes: int = Field(default=10, ge=1)  # a Sign-In with Ethereum nonce is refused after this long
    email_change_hours: int = Field(default=24, ge=1)
    rate_limit_mail: str = "5/hour"  # mails asked for (reset, verification, change of e-mail) per e-mail / account
    rate_limit_mail_address: str = "30/hour"  # ... per client address
    rate_limit_report: str = "10/hour;30/day"  # reports of works per account (or anonymous reporter's e-mail)
    rate_limit_report_address: str = "20/hour;60/day"  # ... per client address
    # The chain watcher (marketplace.chainwatch.watcher): mints and deliveries are re-verified on chain until they are this
    # many blocks deep (the block holding them counts as one). Unset: 2 in dev/test (anvil mines a block per
    # transaction), 12 in production.
    confirmations: int | None = Field(default=None, ge=1, le=1000)
    chain_watch_interval_s: float = Field(default=1.0, gt=0)  # how often the watcher checks the chain
    # The chain indexer (marketplace.indexer): our contracts' events read into the database; owners shown come from
    # it. It reads up to the head less INDEXER_CONFIRMATIONS blocks (unset: 0 in dev/test, where anvil mines a block
    # per transaction and only a test reorganises it; CONFIRMATIONS in production) and undoes reorganisations
    # within the last INDEXER_KEEP_BLOCKS blocks it read.
    run_indexer: bool = True
    indexer_confirmations: int | None = Field(default=None, ge=0, le=1000)
    indexer_from_block: int = Field(default=0, ge=0)  # the contract's deployment block: nothing before it to read
    indexer_blocks_per_step: int = Field(default=2000, ge=1, le=100_000)  # blocks per eth_getLogs
    indexer_keep_blocks: int = Field(default=256, ge=1, le=100_000)
    indexer_poll_interval_s: float = Field(default=1.0, gt=0)
    # a block explorer's page of a transaction, `{tx}` standing for its hash (e.g. https://etherscan.io/tx/{tx}):
    # the token histories link each transaction there; unset (a local chain): the hash is shown to copy
    explorer_tx_url: str | None = Field(default=None, max_length=500)

    # Operations (README "Operations"): one JSON object per log line (console: for a terminal); /readyz gives
    # each dependency this long; /metrics is public unless METRICS_TOKEN is set (then `Authorization: Bearer`);
    # ENV=production needs METRICS_TOKEN (it shows the signer's address and balance)
    log_level: str = "INFO"
    log_format: Literal["json", "console"] | None = None  # unset: console for `ENV=dev`, else json
    readyz_timeout_s: float = Field(default=2.0, gt=0, le=30)
    metrics_token: SecretStr | None = None
    # below this balance the platform signer (MINTER_PRIVATE_KEY) raises the low-balance alarm (log + metric)
    signer_low_balance_wei: int = Field(default=5 * 10**16, ge=0)
    # `marketplace worker` serves its own metrics (mint and delivery latency, job failures) on this port; 0: none
    # (docker-compose.yml sets 9101)
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    # the address it binds: this host only by default (docker-compose.yml sets 0.0.0.0 on its internal network)
    worker_metrics_host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _default_confirmations(self) -> Settings:
        if self.confirmations is None:
            self.confirmations = 2 if self.env in ("dev", "test") else 12
        if self.indexer_confirmations is None:
            self.indexer_confirmations = 0 if self.env in ("dev", "test") else self.confirmations
        return self

    @model_validator(mode="after")
    def _default_log_format(self) -> Settings:
        if self.log_format is None:
            self.log_format = "console" if self.env == "dev" else "json"
        return self

    @model_validator(mode="after")
    def _key_from_file(self) -> Settings:
        if self.minter_private_key_file is not None:
            try:
                key = self.minter_private_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"MINTER_PRIVATE_KEY_FILE cannot be read: {exc.strerror}") from None
            if not key:
                raise ValueError("MINTER_PRIVATE_KEY_FILE is empty")
            self.minter_private_key = SecretStr(key)
        return self

    def secret_values(self) -> list[str]:
        """Every secret a setting holds: the log formatter redacts each wherever it would appear."""
        values = [self.minter_private_key, self.wallet_secret, self.auth_secret, self.stripe_api_key,
                  self.stripe_webhook_secret, self.stripe_connect_webhook_secret, self.smtp_password,
                  self.metrics_token, self.ipfs_pinning_service_token]
        return [value.get_secret_value() for value in values if value is not None]

    @property
    def max_fee_per_gas_wei(self) -> int | None:
        return None if self.max_fee_per_gas_gwei is None else int(self.max_fee_per_gas_gwei * 10**9)

    @property
    def priority_fee_wei(self) -> int:
        return int(self.priority_fee_gwei * 10**9)

    @model_validator(mode="after")
    def _no_dev_secrets_outside_dev(self) -> Settings:
        key = self.stripe_api_key.get_secret_value()
        if key.startswith(("sk_live_", "rk_live_")) and self.stripe_api_base.rstrip("/") != REAL_STRIPE_API:
            raise ValueError(f"refusing a live Stripe key with a non-Stripe API base ({self.stripe_api_base})")
        if self.env in ("dev", "test"):
            return self
        defaults = {
            "MINTER_PRIVATE_KEY": (self.minter_private_key, DEV_MINTER_KEY),
            "WALLET_SECRET": (self.wallet_secret, DEV_WALLET_SECRET),
            "AUTH_SECRET": (self.auth_secret, DEV_AUTH_SECRET),
            "STRIPE_API_KEY": (self.stripe_api_key, DEV_STRIPE_KEY),
            "STRIPE_WEBHOOK_SECRET": (self.stripe_webhook_secret, DEV_STRIPE_WEBHOOK_SECRET),
        }
        bad = [name for name, (value, dev) in defaults.items() if value.get_secret_value() == dev]
        if bad:
            raise ValueError(f"ENV={self.env} needs these secrets set explicitly: {', '.join(bad)}")
        if len(self.wallet_secret.get_secret_value()) < 32:
            raise ValueError("WALLET_SECRET must be at least 32 characters")
        if not self.database_url:
            raise ValueError(f"ENV={self.env} needs DATABASE_URL")
        if not self.contract_address:
            raise ValueError(f"ENV={self.env} needs CONTRACT_ADDRESS")
        if self.max_fee_per_gas_gwei is None:
            raise ValueError(f"ENV={self.env} needs MAX_FEE_PER_GAS_GWEI (the fee cap of every transaction)")
        if self.metrics_token is None or not self.metrics_token.get_secret_value():
            raise ValueError(f"ENV={self.env} needs METRICS_TOKEN (/metrics shows the signer's address and balance)")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'marketplace.core.db').as_posix()}"

    @property
    def shown_rpc_url(self) -> str:
        if self.public_rpc_url is not None:
            return self.public_rpc_url
        return self.rpc_url if self.env in ("dev", "test") else ""

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


@lru_cache
def get_settings() -> Settings:
    return Settings()
