"""The validated criteria saved by setup (criteria/snapshot.py): loaded only for exactly the bytes it
was made from, equal to a validated load, and never used for other files or other code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mas_screen.criteria import snapshot
from mas_screen.criteria.detached import Detached, detach
from mas_screen.criteria.loading import CRITERIA_DIR, REFERENCES_DIR, load_criteria, save_criteria_snapshot

ROOT = Path(__file__).resolve().parents[1]


def _isolated(tmp_path, monkeypatch):
    """Snapshots written to a temporary folder, not beside the package's bytecode."""
    monkeypatch.setattr(snapshot, "SNAPSHOT_DIR", tmp_path / "snapshots")


def _after_setup(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh process after saving the snapshot as scripts/setup.sh does."""
    save = "from mas_screen.criteria.loading import save_criteria_snapshot; save_criteria_snapshot()"
    subprocess.run([sys.executable, "-c", save], cwd=ROOT, check=True, capture_output=True)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


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
        "loading.criteria.cache_clear(); loading.load_snapshot = lambda *a, **k: None\n"
        "print(provenance.fingerprint().criteria_sha256)\n"
    )
    done = _after_setup(code)
    assert done.returncode == 0, done.stderr
    first, snap_hash, validated_hash = done.stdout.split("\n")[:3]
    assert first == "False True"  # loaded, not validated: the validators were never built
    assert snap_hash == validated_hash


def _same(plain, model, where: str = "criteria") -> None:
    """The plain copy holds every field of the validated object, and its methods answer alike."""
    fields = getattr(type(model), "model_fields", None)
    if fields is None:
        if isinstance(model, dict):
            assert isinstance(plain, dict) and list(plain) == list(model), where
            for key in model:
                _same(plain[key], model[key], f"{where}[{key!r}]")
        elif isinstance(model, list | tuple):
            assert type(plain) is type(model) and len(plain) == len(model), where
            for i, (p, m) in enumerate(zip(plain, model, strict=True)):
                _same(p, m, f"{where}[{i}]")
        else:
            assert type(plain) is type(model) and plain == model, where
        return
    assert isinstance(plain, Detached) and plain._kind == type(model).__name__, where
    for name in fields:
        _same(getattr(plain, name), getattr(model, name), f"{where}.{name}")
    kind = type(model).__name__
    if kind == "UnitSpec":
        assert plain.factor_decimal == model.factor_decimal, where
    elif kind == "AnalyteSpec":
        for unit in model.units:
            _same(plain.unit(unit.unit), model.unit(unit.unit), f"{where}.unit({unit.unit!r})")
    elif kind == "Band":
        assert plain.conditions == model.conditions, where
    elif kind == "ItemSpec":
        _same(plain.sub_items(), model.sub_items(), f"{where}.sub_items()")
    elif kind == "InstrumentSpec":
        for item in model.items:
            assert plain.item(item.id).id == item.id, where
    elif kind == "PolicyFile":
        for tier in model.next_test_tiers:
            for key in tier.keys:
                assert plain.tier_of(key).id == model.tier_of(key).id, where


def test_the_plain_copy_answers_as_the_validated_criteria(tmp_path, monkeypatch):
    """What a batch run loads (criteria/detached.py) holds every field the schema validated, and
    the schema's methods (criteria/spec_methods.py) answer the same on it."""
    _isolated(tmp_path, monkeypatch)
    save_criteria_snapshot(CRITERIA_DIR, REFERENCES_DIR)
    plain, parsed = snapshot.load_snapshot(CRITERIA_DIR, REFERENCES_DIR, detached=True)
    validated = load_criteria(CRITERIA_DIR, REFERENCES_DIR)
    _same(plain, validated)
    assert CRITERIA_DIR / "mas2016.yaml" in parsed
    # compared and hashed by their fields, as the frozen models are (unhashable with a list field)
    fibrinogen, ferritin = (plain.analytes.analytes[k] for k in ("fibrinogen", "ferritin"))
    unit = validated.analytes.analytes["fibrinogen"].units[0]
    assert detach(unit) == fibrinogen.units[0] and detach(unit) != fibrinogen.units[1]
    plausible = validated.analytes.analytes["fibrinogen"].plausible
    assert hash(detach(plausible)) == hash(fibrinogen.plausible) and fibrinogen.plausible != ferritin.plausible
    with pytest.raises(TypeError):
        hash(unit)
    with pytest.raises(TypeError):
        hash(fibrinogen.units[0])


def test_only_a_process_that_asks_loads_the_plain_copy_and_never_imports_pydantic():
    code = (
        "import sys\n"
        "from mas_screen.criteria import loading\n"
        "loading.prefer_plain_criteria()\n"
        "data = loading.criteria()\n"
        "print(type(data).__module__, 'pydantic' in sys.modules)\n"
    )
    done = _after_setup(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["mas_screen.criteria.detached", "False"]
    other = code.replace("loading.prefer_plain_criteria()\n", "")
    done = _after_setup(other)
    assert done.stdout.split() == ["mas_screen.criteria.validation", "True"]  # every other process validates


def test_without_a_plain_copy_a_batch_run_still_validates(tmp_path, monkeypatch):
    """No snapshot for these files (another MAS_SCREEN_CRITERIA_DIR, no setup): the criteria are
    read and validated as in any other process."""
    from mas_screen.criteria import loading

    _isolated(tmp_path, monkeypatch)  # an empty snapshot folder
    monkeypatch.setattr(loading, "_PLAIN", [False])
    loading.criteria.cache_clear()
    try:
        loading.prefer_plain_criteria()
        data = loading.criteria()
        assert type(data).__module__ == "mas_screen.criteria.validation"
        assert data == load_criteria(CRITERIA_DIR, REFERENCES_DIR)
    finally:
        loading.criteria.cache_clear()


def test_every_method_of_the_schema_is_shared_with_the_plain_copy():
    """A method written on a schema class would be missing from the plain copy a batch run reads:
    every method lives in criteria/spec_methods.py, mixed into the model and into its copy."""
    from pydantic import BaseModel

    from mas_screen.criteria import detached, schema, schema_policy, spec_methods

    for module in (schema, schema_policy):
        for cls in vars(module).values():
            if not (isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == module.__name__):
                continue
            own = [
                name
                for name, value in vars(cls).items()
                if not name.startswith(("_", "model_")) and (callable(value) or isinstance(value, property))
            ]
            assert own == [], f"{cls.__name__}: define {own} in spec_methods.py"
            mixins = [base for base in cls.__mro__ if base.__module__ == spec_methods.__name__]
            if mixins:
                copy = detached.WITH_METHODS[cls.__name__]
                assert all(issubclass(copy, m) for m in mixins), cls.__name__
