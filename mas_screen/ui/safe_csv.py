"""Spreadsheet-safe CSV cells: a cell a spreadsheet would run as a formula is prefixed with '.

CSV/formula injection (OWASP): cells beginning with = + - @ or a tab/carriage return can execute
when the file is opened in a spreadsheet ("-2+3+cmd|' /C calc'!A0" starts with a digit after the
minus, so only a cell that is a plain number in full is let through). Numbers stay numbers.
"""

from __future__ import annotations

import re

_DANGEROUS = re.compile(r"^[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise(value: object) -> object:
    if isinstance(value, str) and _DANGEROUS.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value
