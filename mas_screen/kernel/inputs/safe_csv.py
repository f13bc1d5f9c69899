"""Spreadsheet-safe CSV cells: a cell a spreadsheet would run as a formula is prefixed with '.

CSV/formula injection (OWASP): cells beginning with = + - @ or a tab/carriage return can execute
when the file is opened in a spreadsheet ("-2+3+cmd|' /C calc'!A0" starts with a digit after the
minus, so only a cell that is a plain number in full is let through). Numbers stay numbers.
"""

from __future__ import annotations

import re

DANGEROUS = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_DANGEROUS = re.compile(DANGEROUS)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def neutralise(value: object) -> object:
    if isinstance(value, str) and _DANGEROUS.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_arrow(column):
    """`neutralise` over a pyarrow string column (the batch CSV writer), by compute kernels."""
    import pyarrow.compute as pc

    risky = pc.and_(
        pc.match_substring_regex(column, DANGEROUS), pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER))
    )
    if not pc.any(risky).as_py():
        return column
    from mas_screen.kernel.inputs.arrow import text

    quote, empty = text("'", column.type), text("", column.type)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, column, empty), column)
