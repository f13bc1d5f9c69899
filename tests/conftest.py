"""Shared helpers: build a patient from plain dicts and assess it to contract JSON."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mas_screen import PatientInput, assess

ROOT = Path(__file__).resolve().parents[1]


def run(labs: dict | None = None, **context) -> dict:
    """Assess a patient given as labs plus context keyword arguments; returns the contract JSON."""
    data = {"context": context, "labs": labs or {}}
    return assess(PatientInput.model_validate(data)).model_dump(mode="json")


def without_generated_at(data):
    """A result (or a series of them) without provenance.generated_at: two runs of the same input
    differ only in that time stamp."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key == "provenance" and isinstance(value, dict):
                out[key] = {k: v for k, v in value.items() if k != "generated_at"}
            else:
                out[key] = without_generated_at(value)
        return out
    if isinstance(data, list):
        return [without_generated_at(v) for v in data]
    return data


def page_text(at) -> str:
    """Everything an AppTest page says in prose: markdown, captions and alert boxes."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.success, at.warning, at.error, at.info) for e in kind]
    return "\n".join(parts)


def crit(result: dict, iid: str) -> dict:
    return result["criteria"][iid]


def item(result: dict, iid: str, item_id: str) -> dict:
    for it in result["criteria"][iid]["items"]:
        if it["id"] == item_id:
            return it
    raise KeyError(item_id)


_TEST_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's script runner (AppTest) installs the page script as sys.modules['__main__'] and
    leaves it there; a later test that spawns processes (dask's LocalCluster) would then re-run
    app.py in every child, which fails. Each test starts with pytest's own __main__."""
    yield
    sys.modules["__main__"] = _TEST_MAIN


@pytest.fixture
def assess_json():
    return run


@pytest.fixture
def data_dirs(tmp_path):
    """A copy of criteria/ and references/ for a test to break."""
    crit_dir, refs_dir = tmp_path / "criteria", tmp_path / "references"
    shutil.copytree(ROOT / "criteria", crit_dir)
    shutil.copytree(ROOT / "references", refs_dir)
    return crit_dir, refs_dir
