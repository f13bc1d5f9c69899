"""The validated criteria kept beside the bytecode, so a process need not validate them again.

Every process validates every data file against the schema when it starts: ~0.07 s of building
pydantic validators and validating, on the start-up path of every batch run, command and app worker
(issue 14). `scripts/setup.sh` saves the result once (`loading.save_criteria_snapshot`), as it compiles the bytecode:
`mas_screen/criteria/__pycache__/criteria-<key>.pickle`, where the key is the SHA-256 of every byte
the result depends on: the data files (criteria/*.yaml, references/*.yaml), the source of the code
that reads and checks them (this package's schema, policy schema, loading and this module) and the
versions of Python and pydantic. A process whose files hash to a saved key loads it (~2 ms,
`defer_build` keeps the schema's validators unbuilt until something validates); any other (an
edited threshold, MAS_SCREEN_CRITERIA_DIR, a changed schema, no snapshot) validates as before.
The snapshot holds criteria only, never anything about a patient, and is written only by setup.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SNAPSHOT_DIR = HERE / "__pycache__"
# The code whose output the snapshot is: a change to any of it makes the key new.
SOURCES = ("errors.py", "schema.py", "schema_policy.py", "loading.py", "snapshot.py")


def snapshot_key(criteria_dir: Path, references_dir: Path) -> str:
    """SHA-256 over every byte a load of these directories depends on (names, lengths, contents)."""
    import pydantic

    digest = hashlib.sha256(f"{sys.version}\0{pydantic.VERSION}\0".encode())
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


def snapshot_path(key: str) -> Path:
    return SNAPSHOT_DIR / f"criteria-{key[:32]}.pickle"


def load_snapshot(criteria_dir: Path, references_dir: Path) -> tuple[Any, dict] | None:
    """(criteria data, the files it was parsed from) saved for exactly these bytes, or None."""
    try:
        key = snapshot_key(criteria_dir, references_dir)
        with snapshot_path(key).open("rb") as fh:
            saved_key, data, parsed = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return None  # none saved, or saved by other code: validate as usual
    return (data, parsed) if saved_key == key else None


def save_snapshot(criteria_dir: Path, references_dir: Path, data: Any, parsed: dict) -> Path:
    """Save criteria validated from these directories (and the files they were parsed from) under
    the directories' key, atomically; any older snapshot is removed. `loading.save_criteria_snapshot`."""
    key = snapshot_key(criteria_dir, references_dir)
    path = snapshot_path(key)
    path.parent.mkdir(exist_ok=True)
    for old in path.parent.glob("criteria-*.pickle"):  # one snapshot: the current files'
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".criteria-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((key, data, parsed), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)  # readable by whoever runs the app, like the bytecode beside it
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path
