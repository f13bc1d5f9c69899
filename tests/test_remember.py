"""kernel.remember: what recurs is made once, and a table never holds more than LIMIT entries."""

from __future__ import annotations

from mas_screen.kernel.remember import LIMIT, remember


def test_made_once_per_key_and_bounded():
    table: dict = {}
    made: list[int] = []

    def make(i: int):
        return lambda: made.append(i) or i * 2

    assert remember(table, 1, make(1)) == 2 and remember(table, 1, make(1)) == 2
    assert made == [1]
    for i in range(LIMIT * 2 + 5):
        remember(table, ("k", i), make(i))
        assert len(table) <= LIMIT
