"""The loan book generator: NBFI-shaped applications with a known true default probability.

See docs/generator.md for the population, the dirt in the published values and the latent
default model.
"""

from __future__ import annotations

from loanops.generator.book import Book, generate_book
from loanops.generator.files import (
    LAYOUTS,
    WrittenBook,
    default_truth_dir,
    next_id,
    write_book,
    write_late_outcomes,
)
from loanops.generator.population import SHIFTS
from loanops.schema import FIRST_ID

__all__ = [
    "FIRST_ID",
    "LAYOUTS",
    "SHIFTS",
    "Book",
    "WrittenBook",
    "default_truth_dir",
    "generate_book",
    "next_id",
    "write_book",
    "write_late_outcomes",
]
