"""The patient's own instruments (contract "The patient's own instruments", revised 2026-12-06):
the service asks here, and this module asks the kernel's signals and the summary's tiers (both read
criteria/policy.yaml)."""

from __future__ import annotations

from collections.abc import Iterable

from mas_screen.explain.summary import by_tier as _by_tier
from mas_screen.kernel.signals import mas_instruments as _mas_instruments
from mas_screen.kernel.signals import own_instruments as _own


def own_instruments(disease: str) -> tuple[str, ...]:
    return tuple(_own(disease))


def mas_instruments() -> tuple[str, ...]:
    return tuple(_mas_instruments())


def by_tier(keys: Iterable[str]) -> list[str]:
    return _by_tier(keys)


__all__ = ["by_tier", "mas_instruments", "own_instruments"]
