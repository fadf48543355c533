"""Settings for the whole service, read once from the environment (prefix-free names, e.g. DATABASE_URL).

Development defaults let `marketplace dev` run with nothing configured. Outside `ENV=dev|test`, every secret must be
set explicitly: the service refuses to start with a development default (fail fast).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
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
MAX_ROYALTY_BPS = 2500


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("data")
    public_base_url: str = "http://127.0.0.1:8000"

    database_url: str = ""  # empty: SQLite file in data_dir
    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int | None = None  # checked against the node at start when set
    contract_address: str | None = None  # empty in dev: deployed by `marketplace dev`
    minter_private_key: SecretStr = SecretStr(DEV_MINTER_KEY)
    wallet_secret: SecretStr = SecretStr(DEV_WALLET_SECRET)
    auth_secret: SecretStr = SecretStr(DEV_AUTH_SECRET)
    access_token_minutes: int = 60 * 24

    ipfs_api_url: str = "/ip4/127.0.0.1/tcp/5001/http"
    ipfs_timeout_s: float = 30.0

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    thumbnail_px: int = 640

    mint_batch_size: int = Field(default=50, ge=1, le=200)
    mint_poll_interval_s: float = 0.2
    mint_max_attempts: int = 5
    # mint transactions in flight at once: the next batch is signed and sent while the previous ones are mined (on
    # a chain with block times, about the batches that share a block); 1 = each batch mined before the next
    mint_pipeline_depth: int = Field(default=4, ge=1, le=16)
    run_mint_worker: bool = True  # the API process also runs the mint worker (dev default)
    run_delivery_worker: bool = True  # ... and the delivery worker (paid -> token to the buyer)

    # Stripe: the real SDK; in dev and tests its base points at the project's Stripe double.
    stripe_api_key: SecretStr = SecretStr(DEV_STRIPE_KEY)
    stripe_api_base: str = REAL_STRIPE_API
    stripe_webhook_secret: SecretStr = SecretStr(DEV_STRIPE_WEBHOOK_SECRET)
    stripe_max_network_retries: int = 2
    platform_fee_bps: int = Field(default=1000, ge=0, le=5000)  # the platform's share of each sale
    checkout_expires_minutes: int = Field(default=30, ge=30, le=24 * 60)  # Stripe allows 30 min .. 24 h
    delivery_max_attempts: int = 5
    delivery_batch_size: int = Field(default=50, ge=1, le=200)  # purchases claimed at once; one tx per seller
    custodial_gas_topup_wei: int = 10**16  # ETH the platform sends a custodial wallet to pay delivery gas

    @model_validator(mode="after")
    def _no_dev_secrets_outside_dev(self) -> "Settings":
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
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'marketplace.db').as_posix()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


@lru_cache
def get_settings() -> Settings:
    return Settings()
