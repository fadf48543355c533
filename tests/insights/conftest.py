"""The insights' tests reuse the payments' live shop (the app, the Stripe double over HTTP, anvil, IPFS) the
payouts' fabricated market, and the web tests' browser."""

from tests.payments.conftest import shop  # noqa: F401  (the fixture)
from tests.payouts.conftest import market, stripe, worker  # noqa: F401  (the fixtures of fabricated sales)
from tests.web.conftest import browsing  # noqa: F401  (the fixture)
