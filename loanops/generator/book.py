"""One generated loan book: draw, publish, score, calibrate, draw the outcomes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loanops.generator import catalogue, population, publish, risk
from loanops.schema import FIRST_ID, ID_COLUMN, PUBLISHED_COLUMNS

# Under --shift the intercept comes from the unshifted population (same seed, up to this
# many rows), so the drifted book's default rate moves with its risk instead of being
# forced back to 8.08 %.
_BASELINE_ROWS = 200_000


@dataclass
class Draft:
    """A book before formatting: the published cells, the outcomes and the truth."""

    cells: dict[str, publish.Cell]
    default: np.ndarray
    true_pd: np.ndarray
    intercept: float
    first_id: int

    @property
    def rows(self) -> int:
        """Number of applications."""
        return len(self.default)


@dataclass
class Book:
    """A generated book: published applications (text, as in the CSV) and true probabilities."""

    applications: pd.DataFrame
    true_pd: pd.DataFrame
    intercept: float

    @property
    def default_rate(self) -> float:
        """Share of applications that defaulted."""
        return float((self.applications["Default"] == "1").mean())


def _log_odds(
    rng: np.random.Generator, rows: int, first_id: int, shift: str | None
) -> tuple[dict[str, publish.Cell], np.ndarray]:
    """Draw and publish `rows` applicants; return the cells and their risk scores."""
    cells = publish.plan(rng, population.draw(rng, rows, shift), first_id)
    return cells, risk.score(publish.observed(cells))


def draft(rows: int, seed: int, first_id: int = FIRST_ID, shift: str | None = None) -> Draft:
    """Generate a book up to (not including) its text."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    if shift is not None and shift not in population.SHIFTS:
        raise ValueError(f"unknown shift {shift!r}; choose one of {', '.join(population.SHIFTS)}")
    # The first id joins the seed so successive batches of one seed differ.
    rng = np.random.default_rng([seed, first_id])
    cells, log_odds = _log_odds(rng, rows, first_id, shift)
    if shift is None:
        intercept = risk.calibrate(log_odds, catalogue.TARGET_DEFAULT_RATE)
    else:
        baseline_rng = np.random.default_rng([seed, first_id])
        _, baseline = _log_odds(baseline_rng, min(rows, _BASELINE_ROWS), first_id, None)
        intercept = risk.calibrate(baseline, catalogue.TARGET_DEFAULT_RATE)
    true_pd = risk.probability(log_odds, intercept)
    default = (rng.random(rows) < true_pd).astype("int8")
    return Draft(cells, default, true_pd, intercept, first_id)


def to_book(draft_: Draft) -> Book:
    """Format a draft into a Book of published strings."""
    table = publish.text(draft_.cells, slice(None), PUBLISHED_COLUMNS, draft_.default)
    ids = np.arange(draft_.first_id, draft_.first_id + draft_.rows)
    truth = pd.DataFrame({ID_COLUMN: ids, "true_pd": draft_.true_pd})
    return Book(publish.frame_of(table), truth, draft_.intercept)


def generate_book(rows: int, seed: int, first_id: int = FIRST_ID, shift: str | None = None) -> Book:
    """Generate `rows` applications in the published layout, with their true probabilities."""
    return to_book(draft(rows, seed, first_id, shift))
