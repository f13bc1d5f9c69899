"""The one vocabulary every face uses: result and status words, comparator symbols, how a score reads.

The kernel gives results as numbers ordered like Kleene logic (0 not met, 1 missing / open, 2 met);
here they become the contract's words and the few ways a reader sees them.
"""

from __future__ import annotations

from mas_screen.kernel.kinds.base import SYMBOL
from mas_screen.kernel.ops import MET, MISSING, NOT_MET

RESULT_WORDS = {NOT_MET: "not_met", MISSING: "missing", MET: "met"}  # item results (contract)
STATUS_WORDS = {NOT_MET: "not_met", MISSING: "indeterminate", MET: "met"}  # instrument statuses (contract)
STATUS_CODES = {word: code for code, word in STATUS_WORDS.items()}

__all__ = ["RESULT_WORDS", "STATUS_CODES", "STATUS_WORDS", "SYMBOL"]
