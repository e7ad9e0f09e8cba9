"""One generated book shared by the generator tests (generation and cleaning take seconds)."""

from __future__ import annotations

import pandas as pd
import pytest

from loanops.features import frame
from loanops.generator import Book, generate_book

ROWS = 30_000


@pytest.fixture(scope="package")
def book() -> Book:
    """A 30,000-row book, seed 7."""
    return generate_book(ROWS, seed=7)


@pytest.fixture(scope="package")
def silver(book: Book) -> pd.DataFrame:
    """The book as the silver cleaning rules read it."""
    return frame.clean(book.applications)
