"""Spreadsheet-safe CSV cells: a cell a spreadsheet would run as a formula is prefixed with '.

CSV/formula injection (OWASP): cells beginning with = + @ or a tab/carriage return, or - not
followed by a digit, can execute when the file is opened in a spreadsheet. Numbers stay numbers.
"""

from __future__ import annotations

import re

_DANGEROUS = re.compile(r"^(?:[=+@\t\r]|-(?![\d.]))")


def neutralise(value: object) -> object:
    if isinstance(value, str) and _DANGEROUS.match(value):
        return "'" + value
    return value
