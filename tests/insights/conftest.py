"""The insights' tests reuse the payments' live shop (the app, the Stripe double over HTTP, anvil, IPFS) and the
web tests' browser."""

from tests.payments.conftest import shop  # noqa: F401  (the fixture)
from tests.web.conftest import browsing  # noqa: F401  (the fixture)
