from __future__ import annotations

import pytest

from tests.payments.conftest import Shop


@pytest.fixture
def shop(make_live) -> Shop:
    return Shop(make_live())
