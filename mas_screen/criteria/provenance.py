"""Provenance: which tool, which criteria data and which instrument versions produced a result.

Every Assessment carries `provenance` (docs/contract-extensions.md, "Provenance"), and every
export repeats it, so that a result read months later can be traced to the exact criteria it was
computed under and recomputed (`python -m mas_screen verify FILE`).

The criteria fingerprint is a SHA-256 over a canonical form of the data files as parsed, not of
their bytes: every `*.yaml` in the criteria directory (criteria/, or MAS_SCREEN_CRITERIA_DIR) and
in references/ is read with yaml.safe_load and dumped as JSON with sorted keys, no whitespace,
UTF-8 (dates as ISO text). Comments, key order, quoting and indentation therefore do not change it;
any value does. `criteria_sha256` hashes the mapping {"criteria/<file>": data, "references/<file>":
data}; `data_sha256` keeps one hash per file (same canonical form) so that `verify` can name what
changed. The fingerprint is computed once per criteria load (loading.criteria() is cached; a
reload, as tests do with cache_clear(), computes it again), so assess() pays only for a timestamp.
"""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mas_screen.criteria.errors import CriteriaDataError
from mas_screen.criteria.loading import (
    REFERENCES_DIR,
    ROOT,
    criteria,
    criteria_dir,
    parsed_files,
    safe_load,
)

if TYPE_CHECKING:
    from mas_screen.criteria.validation import CriteriaData

SCHEMA_VERSION = "1"
DISTRIBUTION = "mas-screen"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    criteria_sha256: str
    data_sha256: dict[str, str]  # "criteria/mas2016.yaml" → SHA-256 of that file's canonical form
    instruments: dict[str, str]  # instrument id → version


def canonical_json(data: Any) -> bytes:
    """The canonical text that is hashed: sorted keys, no whitespace, UTF-8, dates as ISO text."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso).encode("utf-8")


def _iso(value: Any) -> str:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"cannot put {type(value).__name__} in the criteria fingerprint")
    return isoformat()


def _parsed(path: Path) -> Any:
    import yaml  # only when a file is parsed again (a batch stamp reuses the load's parse)

    try:
        with path.open(encoding="utf-8") as fh:
            return safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise CriteriaDataError(f"{path.name}: cannot be read for the provenance hash: {exc}") from exc


def data_files(criteria_path: Path | None = None, references_path: Path = REFERENCES_DIR) -> dict[str, Path]:
    """Every data file the fingerprint covers, by its label ("criteria/x.yaml"), in sorted order."""
    criteria_path = criteria_dir() if criteria_path is None else criteria_path
    files = {f"criteria/{p.name}": p for p in sorted(criteria_path.glob("*.yaml"))}
    files.update({f"references/{p.name}": p for p in sorted(references_path.glob("*.yaml"))})
    return files


def fingerprint_files(files: dict[str, Path], known: dict[Path, Any] | None = None) -> tuple[str, dict[str, str]]:
    """(SHA-256 of all files, {label: SHA-256 of one file}) over the canonical parsed form; `known`:
    files already parsed, by path (the criteria load's)."""
    known = known or {}
    parsed = {label: known[path] if path in known else _parsed(path) for label, path in files.items()}
    each = {label: hashlib.sha256(canonical_json(data)).hexdigest() for label, data in parsed.items()}
    return hashlib.sha256(canonical_json(parsed)).hexdigest(), each


_loaded: list[tuple[CriteriaData, Fingerprint]] = []  # the last load and its fingerprint (identity-checked)


def fingerprint() -> Fingerprint:
    """The fingerprint of the criteria as loaded now; computed once per load."""
    data = criteria()
    if _loaded and _loaded[0][0] is data:
        return _loaded[0][1]
    total, each = fingerprint_files(data_files(), parsed_files(data))
    found = Fingerprint(total, each, {iid: spec.version for iid, spec in data.instruments.items()})
    _loaded[:] = [(data, found)]
    return found


@cache
def tool_version() -> str:
    """The installed package's version; in a source checkout that is not installed, pyproject's."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        with (ROOT / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        from mas_screen.version import __version__

        return __version__


_clock: list = [None, ""]  # [whole second, its text]: formatted once per second


def utc_now() -> str:
    """The current UTC time as ISO 8601 with a Z, to the second."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return _clock[1]


def stamp(generated_at: str | None = None) -> dict[str, Any]:
    """Provenance fields without a recorded input (batch files, CDS cards, PDF footers)."""
    fp = fingerprint()
    return {
        "tool_version": tool_version(),
        "schema_version": SCHEMA_VERSION,
        "criteria_sha256": fp.criteria_sha256,
        "instruments": dict(fp.instruments),
        "generated_at": generated_at or utc_now(),
        "data_sha256": dict(fp.data_sha256),
    }


def one_line(prov: dict[str, Any] | Any) -> str:
    """Provenance as one line for footers and reports."""
    if not isinstance(prov, dict):
        prov = prov.model_dump(mode="json", exclude={"input"})
    versions = ", ".join(f"{k} {v}" for k, v in prov["instruments"].items())
    return (
        f"MAS Screen {prov['tool_version']} · schema {prov['schema_version']} · criteria SHA-256 "
        f"{prov['criteria_sha256']} · generated {prov['generated_at']} · instruments: {versions}"
    )


__all__ = [
    "SCHEMA_VERSION",
    "Fingerprint",
    "canonical_json",
    "data_files",
    "fingerprint",
    "fingerprint_files",
    "one_line",
    "stamp",
    "tool_version",
    "utc_now",
]
