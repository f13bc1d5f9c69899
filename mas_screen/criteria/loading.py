"""The criteria (`criteria/*.yaml`, `references/*.yaml`) as typed specs, once per process: from the
snapshot setup saved for exactly these files and this code (criteria/snapshot.py), else read and
validated (criteria/validation.py, which this module loads only when it must).

A malformed file fails loudly at import with `CriteriaDataError` naming the file and the field, so
a typo in a threshold can never reach a patient silently.

The criteria are read from this checkout's `criteria/`, or from the directory named by the
environment variable MAS_SCREEN_CRITERIA_DIR (references stay in `references/`): to check an
edited copy with the app or the command line before it replaces the original, and to test that a
broken copy stops the app at start with a clear message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mas_screen.criteria.data_files import (  # noqa: F401  (re-exported: where the criteria are)
    _PARSED,
    CRITERIA_DIR,
    CRITERIA_DIR_ENV,
    REFERENCES_DIR,
    ROOT,
    _read_yaml,
    instrument_files,
    parsed_files,
    safe_load,
)
from mas_screen.criteria.snapshot import load_snapshot, save_snapshot

if TYPE_CHECKING:
    from mas_screen.criteria.validation import CriteriaData

T = TypeVar("T")


def criteria_dir() -> Path:
    """`criteria/` of this checkout, or the directory in MAS_SCREEN_CRITERIA_DIR when it is set."""
    override = os.environ.get(CRITERIA_DIR_ENV, "").strip()
    return Path(override) if override else CRITERIA_DIR


@cache
def criteria() -> CriteriaData:
    """The project's criteria, loaded once per process: from the snapshot setup saved when it was made
    from exactly these files and this code (criteria/snapshot.py), else read and validated."""
    directory = criteria_dir()
    saved = load_snapshot(directory, REFERENCES_DIR, detached=_PLAIN[0])
    if saved is None:
        from mas_screen.criteria.validation import load_criteria

        return load_criteria(directory)
    data, parsed = saved
    _PARSED[:] = [data, parsed]
    return data


# Tables made from the loaded criteria (unit indexes, plausible ranges, citations...): forgotten
# with them, so that a reload (tests edit data and call criteria.cache_clear()) never serves the
# old ones. Keyed by criteria ids and units only, never by what a user typed.
_DEPENDENTS: list[Callable[[], None]] = []
_forget_loaded = criteria.cache_clear


def per_load(fn: Callable[..., T]) -> Callable[..., T]:
    """`functools.cache` for a table derived from the criteria, cleared when they are reloaded."""
    cached = cache(fn)
    _DEPENDENTS.append(cached.cache_clear)
    return cached


def on_reload(clear: Callable[[], None]) -> None:
    """Call `clear` when the criteria are reloaded (a module's own table of derived values)."""
    _DEPENDENTS.append(clear)


def _reload() -> None:
    """Forget the criteria and every table made from them; the next caller loads them again."""
    _forget_loaded()
    for clear in _DEPENDENTS:
        clear()


criteria.cache_clear = _reload  # type: ignore[attr-defined]  (what tests call to reload)


# Whether criteria() may answer with the plain copy (criteria/detached.py): set by a process that
# only reads the criteria (a batch run) before it first asks for them.
_PLAIN = [False]


def prefer_plain_criteria() -> None:
    """Let criteria() load the snapshot's plain copy, without pydantic (~0.1 s of a batch run's
    start-up); without a snapshot for these files it still validates them. Call before criteria()."""
    _PLAIN[0] = True


def save_criteria_snapshot(criteria_dir: Path = CRITERIA_DIR, references_dir: Path = REFERENCES_DIR) -> Path:
    """Validate the criteria and save them for later starts (criteria/snapshot.py; scripts/setup.sh)."""
    from mas_screen.criteria.validation import load_criteria

    data = load_criteria(criteria_dir, references_dir)
    parsed = dict(parsed_files(data))
    # Every data file the provenance fingerprint covers (cds_hooks.yaml too, which the load does not
    # read): a process that loads the snapshot then parses no YAML at all, nor imports PyYAML.
    for path in [*sorted(criteria_dir.glob("*.yaml")), *sorted(references_dir.glob("*.yaml"))]:
        if path not in parsed:
            _read_yaml(path, parsed)
    return save_snapshot(criteria_dir, references_dir, data, parsed)


def instrument_ids() -> tuple[str, ...]:
    """The ids of every instrument in the loaded criteria, in their order."""
    return tuple(criteria().instruments)


# The validating half (criteria/validation.py: pydantic), loaded on first use by name, so that a
# process reading only the snapshot's plain copy never imports it.
_VALIDATION = frozenset({"CriteriaData", "load_criteria"})


def __getattr__(name: str) -> Any:
    if name in _VALIDATION:
        from mas_screen.criteria import validation

        return getattr(validation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
