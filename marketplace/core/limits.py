"""Limits of the inputs the service accepts, defined once: routes, schemas, forms and tests import them.

Integers are bounded before they reach the database: SQLite stores at most 2^63 - 1 and PostgreSQL's `integer`
ids 2^31 - 1, and an unbounded query parameter once turned into a 500.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator

MAX_DB_ID = 2**31 - 1  # ids are PostgreSQL `integer` (SERIAL)
MAX_PRICE_CENTS = 100_000_000  # EUR 1,000,000.00
MAX_ROYALTY_BPS = 2500  # 25 %
MAX_EDITION_SIZE = 1000  # numbered editions of one work
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 5000
MAX_DISPLAY_NAME_CHARS = 120
MAX_SEARCH_CHARS = 200
MAX_ADDRESS_CHARS = 42
MAX_COLLABORATORS = 20  # creators of one work, the uploader included
MAX_ROLE_CHARS = 80  # a creator's role in a work, in words
MAX_MODERATION_REASON_CHARS = 2000  # a moderation decision's stated reason
MAX_REPORT_DETAILS_CHARS = 4000  # what a notice (a report of a work) says


class Currency(StrEnum):
    """Works are listed, and paid for, in euros."""

    EUR = "EUR"


def _euros(value: object) -> Currency:
    if isinstance(value, str) and value.strip().upper() in Currency.__members__:
        return Currency(value.strip().upper())
    raise ValueError("the marketplace trades in euros: currency must be EUR")


# a currency in a request body: EUR, any case, or a clear 422
Euros = Annotated[Currency, BeforeValidator(_euros)]
