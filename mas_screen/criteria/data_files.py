"""Where the criteria's data files are and how they are parsed: shared by loading (the snapshot) and
validation (the schema), which must not import each other both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mas_screen.criteria.errors import CriteriaDataError
from mas_screen.criteria.spec_methods import DATA_FILES

ROOT = Path(__file__).resolve().parents[2]
CRITERIA_DIR = ROOT / "criteria"
REFERENCES_DIR = ROOT / "references"
CRITERIA_DIR_ENV = "MAS_SCREEN_CRITERIA_DIR"


def safe_load(stream) -> object:
    """yaml.safe_load, with libyaml's parser where available: the same documents, about ten times
    faster. PyYAML is imported here, at the first parse, not with this module: a process that loads
    the criteria snapshot parses nothing (~0.015 s of every batch run's start-up)."""
    import yaml

    return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _read_yaml(path: Path, parsed: dict[Path, object] | None = None) -> object:
    """A data file parsed (and kept in `parsed`, by path, for the provenance hash)."""
    import yaml

    try:
        with path.open(encoding="utf-8") as fh:
            data = safe_load(fh)
            if parsed is not None:
                parsed[path] = data
            return data
    except FileNotFoundError as exc:
        raise CriteriaDataError(f"{path.name}: file not found at {path}") from exc
    except yaml.YAMLError as exc:
        raise CriteriaDataError(f"{path.name}: not valid YAML: {exc}") from exc


def instrument_files(criteria_dir: Path) -> list[Path]:
    """Every instrument file: each criteria/*.yaml but the data files (analytes, policy, ...)."""
    if not criteria_dir.is_dir():
        raise CriteriaDataError(f"{criteria_dir.name}: criteria folder not found at {criteria_dir}")
    return sorted(p for p in criteria_dir.glob("*.yaml") if p.name not in DATA_FILES)


# The last load and the files it parsed (identity-checked, like the provenance fingerprint): the
# fingerprint hashes the files as parsed, and need not parse them a second time (~0.04 s per process).
_PARSED: list = [None, {}]


def parsed_files(data: Any) -> dict[Path, object]:
    """The data files the load that made `data` parsed, by path (empty if another load came since).
    Read-only: the same objects the load validated."""
    return _PARSED[1] if _PARSED[0] is data else {}
