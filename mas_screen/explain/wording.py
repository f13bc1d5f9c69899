"""The one vocabulary every face uses: result and status words, comparator symbols, how a score reads.

The kernel gives results as numbers ordered like Kleene logic (0 not met, 1 missing / open, 2 met);
here they become the contract's words and the few ways a reader sees them.
"""

from __future__ import annotations

from mas_screen.kernel.logic import NEGATION, SYMBOL, bound_prefix, compare
from mas_screen.kernel.ops import MET, MISSING, NOT_MET, SCALAR

RESULT_WORDS = {NOT_MET: "not_met", MISSING: "missing", MET: "met"}  # item results (contract)
MET_WORD, NOT_MET_WORD, MISSING_WORD = RESULT_WORDS[MET], RESULT_WORDS[NOT_MET], RESULT_WORDS[MISSING]
STATUS_WORDS = {NOT_MET: "not_met", MISSING: "indeterminate", MET: "met"}  # instrument statuses (contract)
STATUS_CODES = {word: code for code, word in STATUS_WORDS.items()}


def compare_words(iv, comparator: str, threshold: float) -> str:
    """Whether one value (an interval: a censored value too) meets a threshold, as a result word."""
    return RESULT_WORDS[compare(SCALAR, iv, comparator, threshold)]


def tag(iid: str) -> str:
    """An instrument's short tag for labels beside a threshold line ("2016 > 684")."""
    from mas_screen.criteria.loading import criteria

    spec = criteria().instruments[iid]
    return spec.tag or spec.short_name


__all__ = [
    "MET_WORD",
    "MISSING_WORD",
    "NEGATION",
    "NOT_MET_WORD",
    "RESULT_WORDS",
    "STATUS_CODES",
    "STATUS_WORDS",
    "SYMBOL",
    "bound_prefix",
    "compare_words",
    "tag",
]
