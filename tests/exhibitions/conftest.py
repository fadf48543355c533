"""The exhibitions' tests use the moderation tests' cast (a creator's minted works, a buyer, an admin)."""

from tests.moderation.conftest import cast  # noqa: F401 - the fixture
