"""The validated criteria saved by setup (criteria/snapshot.py): loaded only for exactly the bytes it
was made from, equal to a validated load, and never used for other files or other code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from mas_screen.criteria import snapshot
from mas_screen.criteria.loading import CRITERIA_DIR, REFERENCES_DIR, load_criteria, save_criteria_snapshot

ROOT = Path(__file__).resolve().parents[1]


def _isolated(tmp_path, monkeypatch):
    """Snapshots written to a temporary folder, not beside the package's bytecode."""
    monkeypatch.setattr(snapshot, "SNAPSHOT_DIR", tmp_path / "snapshots")


def test_a_saved_snapshot_loads_as_the_validated_criteria(tmp_path, monkeypatch):
    _isolated(tmp_path, monkeypatch)
    path = save_criteria_snapshot(CRITERIA_DIR, REFERENCES_DIR)
    assert path.parent == tmp_path / "snapshots" and oct(path.stat().st_mode & 0o777) == "0o644"
    data, parsed = snapshot.load_snapshot(CRITERIA_DIR, REFERENCES_DIR)
    assert data == load_criteria(CRITERIA_DIR, REFERENCES_DIR)
    assert CRITERIA_DIR / "mas2016.yaml" in parsed  # the provenance hash need not parse the files again


def test_an_edited_file_or_other_code_never_uses_the_snapshot(tmp_path, monkeypatch):
    _isolated(tmp_path, monkeypatch)
    copy = tmp_path / "criteria"
    shutil.copytree(CRITERIA_DIR, copy)
    save_criteria_snapshot(copy, REFERENCES_DIR)
    assert snapshot.load_snapshot(copy, REFERENCES_DIR) is not None
    hscore = copy / "hscore.yaml"
    hscore.write_text(hscore.read_text(encoding="utf-8").replace("169", "170", 1), encoding="utf-8")
    assert snapshot.load_snapshot(copy, REFERENCES_DIR) is None  # one byte changed: validate again
    assert snapshot.load_snapshot(CRITERIA_DIR, REFERENCES_DIR) is not None  # the bytes it was made from
    monkeypatch.setattr(snapshot, "SOURCES", (*snapshot.SOURCES, "references.py"))
    save_criteria_snapshot(copy, REFERENCES_DIR)
    monkeypatch.setattr(snapshot, "SOURCES", snapshot.SOURCES[:-1])  # the code changed: another key
    assert snapshot.load_snapshot(copy, REFERENCES_DIR) is None


def test_a_damaged_snapshot_is_ignored(tmp_path, monkeypatch):
    _isolated(tmp_path, monkeypatch)
    path = save_criteria_snapshot(CRITERIA_DIR, REFERENCES_DIR)
    path.write_bytes(b"not a pickle")
    assert snapshot.load_snapshot(CRITERIA_DIR, REFERENCES_DIR) is None


def test_a_process_loads_the_snapshot_setup_saved_and_hashes_without_parsing():
    """With the snapshot setup saves (scripts/setup.sh), a process loads the criteria without
    validating them, and its provenance hash is the one a validated load gives."""
    code = (
        "from mas_screen.criteria import loading, provenance\n"
        "data = loading.criteria()\n"
        "print(type(data).__pydantic_complete__, len(loading.parsed_files(data)) > 0)\n"
        "print(provenance.fingerprint().criteria_sha256)\n"
        "loading.criteria.cache_clear(); loading.load_snapshot = lambda *a: None\n"
        "print(provenance.fingerprint().criteria_sha256)\n"
    )
    save = "from mas_screen.criteria.loading import save_criteria_snapshot; save_criteria_snapshot()"
    subprocess.run([sys.executable, "-c", save], cwd=ROOT, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, snap_hash, validated_hash = done.stdout.split("\n")[:3]
    assert first == "False True"  # loaded, not validated: the validators were never built
    assert snap_hash == validated_hash
