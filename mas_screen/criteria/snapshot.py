"""The validated criteria kept beside the bytecode, so a process need not validate them again.

Every process validates every data file against the schema when it starts: ~0.07 s of building
pydantic validators and validating, on the start-up path of every batch run, command and app worker
(issue 14). `scripts/setup.sh` saves the result once (`loading.save_criteria_snapshot`), as it compiles the bytecode:
`mas_screen/criteria/__pycache__/criteria-<key>.pickle`, where the key is the SHA-256 of every byte
the result depends on: the data files (criteria/*.yaml, references/*.yaml), the source of the code
that reads, checks and copies them (`SOURCES` below) and the versions of Python and pydantic. A process whose files hash to a saved key loads it (~2 ms,
`defer_build` keeps the schema's validators unbuilt until something validates); any other (an
edited threshold, MAS_SCREEN_CRITERIA_DIR, a changed schema, no snapshot) validates as before.
Beside it, under the same key, setup saves the plain copy (criteria/detached.py: `-plain.pickle`),
which a batch run loads (`loading.prefer_plain_criteria`) without importing pydantic at all.
The snapshot holds criteria only, never anything about a patient, and is written only by setup.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SNAPSHOT_DIR = HERE / "__pycache__"
# The code whose output the snapshot is: a change to any of it makes the key new.
SOURCES = (
    "errors.py",
    "spec_methods.py",
    "schema.py",
    "schema_policy.py",
    "data_files.py",
    "loading.py",
    "validation.py",
    "detached.py",
    "snapshot.py",
)


def snapshot_key(criteria_dir: Path, references_dir: Path) -> str:
    """SHA-256 over every byte a load of these directories depends on (names, lengths, contents)."""
    digest = hashlib.sha256(f"{sys.version}\0".encode())
    # pydantic's version by its version file's bytes, not by importing it (a batch run never does)
    found = importlib.util.find_spec("pydantic")
    version_file = Path(found.origin).parent / "version.py" if found and found.origin else None
    digest.update(version_file.read_bytes() if version_file and version_file.is_file() else b"no pydantic")
    files = [
        *sorted(criteria_dir.glob("*.yaml")),
        *sorted(references_dir.glob("*.yaml")),
        *(HERE / name for name in SOURCES),
    ]
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.parent.name}/{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def snapshot_path(key: str, detached: bool = False) -> Path:
    return SNAPSHOT_DIR / f"criteria-{key[:32]}{'-plain' if detached else ''}.pickle"


def load_snapshot(criteria_dir: Path, references_dir: Path, detached: bool = False) -> tuple[Any, dict] | None:
    """(criteria data, the files it was parsed from) saved for exactly these bytes, or None.
    `detached`: the plain copy (criteria/detached.py), which loads without pydantic."""
    try:
        key = snapshot_key(criteria_dir, references_dir)
        with snapshot_path(key, detached).open("rb") as fh:
            saved_key, data, parsed = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return None  # none saved, or saved by other code: validate as usual
    return (data, parsed) if saved_key == key else None


def save_snapshot(criteria_dir: Path, references_dir: Path, data: Any, parsed: dict) -> Path:
    """Save criteria validated from these directories (and the files they were parsed from) under
    the directories' key, atomically, with their plain copy beside them; any older snapshot is
    removed. `loading.save_criteria_snapshot`."""
    from mas_screen.criteria.detached import detach

    key = snapshot_key(criteria_dir, references_dir)
    path, plain = snapshot_path(key), snapshot_path(key, detached=True)
    path.parent.mkdir(exist_ok=True)
    for old in path.parent.glob("criteria-*.pickle"):  # one snapshot: the current files'
        if old not in (path, plain):
            with contextlib.suppress(OSError):
                old.unlink()
    _write(plain, (key, detach(data), parsed))
    _write(path, (key, data, parsed))
    return path


def _write(path: Path, content: tuple) -> None:
    """Pickle `content` to `path` atomically (a temporary file renamed over it)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".criteria-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(content, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)  # readable by whoever runs the app, like the bytecode beside it
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
