"""Direct proofs of hazard-log controls (docs/safety/hazard-log.md) that no other test states alone.

- a patient outside an instrument's derivation population is told so, on that instrument;
- IL-1/IL-6 blockade is named where it weakens a "not met" (summary and cards, with citations);
- two sessions of the app in one process share nothing the user typed;
- no cache in the UI holds anything a user typed (a process-wide cache would be shared by sessions).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT, crit, run
from streamlit.testing.v1 import AppTest

from mas_screen.criteria.loading import criteria

APP = str(ROOT / "app.py")

OUTSIDE = [
    # (instrument, context that puts the patient outside its derivation population)
    pytest.param("mas2016", {"underlying_disease": "sle"}, id="mas2016-sle"),
    pytest.param("ms_score", {"underlying_disease": "other"}, id="ms_score-other-disease"),
    pytest.param("mh_score", {"underlying_disease": "sjia", "age_years": 40}, id="mh_score-adult"),
    pytest.param("hscore", {"age_years": 6}, id="hscore-child"),
    pytest.param("hlh2004", {"age_years": 40}, id="hlh2004-adult"),
    pytest.param("ferritin_esr", {"underlying_disease": "sle"}, id="ferritin_esr-sle"),
    pytest.param("parodi2009", {"underlying_disease": "sjia"}, id="parodi2009-sjia"),
    pytest.param("ohi", {"age_years": 40, "hematologic_malignancy": False}, id="ohi-no-malignancy"),
]


def _outside_caveats(iid: str) -> list[str]:
    return [c.text for c in criteria().instruments[iid].caveats if c.when == "outside_population"]


@pytest.mark.parametrize(("iid", "context"), OUTSIDE)
def test_a_patient_outside_the_derivation_population_is_told_so(iid, context):
    result = run({"ferritin": 2500}, **context)
    c = crit(result, iid)
    assert c["population"] == "outside"
    assert c["population_description"]
    wanted = _outside_caveats(iid)
    assert wanted, f"{iid} has no caveat for a patient outside its population"
    for text in wanted:
        assert any(caveat.startswith(text) for caveat in c["caveats"]), (text, c["caveats"])


def test_the_population_caveat_is_absent_inside_the_population():
    result = run({"ferritin": 2500}, underlying_disease="sjia", age_years=6, febrile=True)
    for iid in ("mas2016", "ms_score", "hlh2004"):
        assert crit(result, iid)["population"] == "validated"
        assert not any(c.startswith(t) for t in _outside_caveats(iid) for c in crit(result, iid)["caveats"])


@pytest.mark.parametrize("biologic", ["il1", "il6"])
def test_il1_il6_blockade_weakens_a_not_met_and_says_why(biologic):
    # Ferritin 600 with platelets 300: the 2016 criteria are not met, which blockade makes weak evidence.
    result = run(
        {"ferritin": 600, "platelets": 300}, febrile=True, underlying_disease="sjia", biologic_therapy=biologic
    )
    assert crit(result, "mas2016")["status"] == "not_met"
    summary = " ".join(result["summary"]["caveats"])
    assert "IL-1/IL-6 blockade" in summary and "weak evidence" in summary
    assert {"schulert2018", "shimizu2020"} <= set(result["references"])
    assert any("blockade" in c or "IL-6" in c for c in crit(result, "mas2016")["caveats"])


def test_no_blockade_caveat_without_blockade():
    result = run({"ferritin": 600, "platelets": 300}, febrile=True, underlying_disease="sjia", biologic_therapy="none")
    assert not any("blockade" in c for c in result["summary"]["caveats"])


def test_two_sessions_in_one_process_share_nothing_typed():
    first = AppTest.from_file(APP, default_timeout=90).run()
    first.text_input(key="lab::ferritin").set_value("4321.9").run()
    first.button(key="add_to_series").click().run()
    assert not first.exception
    second = AppTest.from_file(APP, default_timeout=90).run()
    assert not second.exception
    assert second.text_input(key="lab::ferritin").value == ""
    assert "series_rows" not in second.session_state or second.session_state["series_rows"] == []
    text = "\n".join(m.value for m in second.markdown)
    assert "4321.9" not in text


def _cached_functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                name = ast.unparse(target)
                if name.split(".")[-1] in ("cache", "lru_cache", "cache_data", "cache_resource"):
                    yield node, name


def test_ui_caches_hold_nothing_a_user_typed():
    """A process-wide cache is shared by every session: in the UI only argument-free loaders may use one."""
    found = []
    for path in sorted((ROOT / "mas_screen" / "ui").rglob("*.py")):
        for node, name in _cached_functions(path):
            args = node.args
            if args.args or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} (@{name}) takes arguments")
            if name.split(".")[-1] in ("cache_data", "cache_resource"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} uses st.{name.split('.')[-1]}")
    assert found == []


def test_an_instrument_of_another_population_never_raises_the_alarm():
    # Juvenile SLE: the 2016 sJIA criteria are met, the population's own instrument (Parodi) is not.
    labs = {"ferritin": 2500, "platelets": 150, "ast": 60, "temperature": 37.5}
    result = run(labs, febrile=True, underlying_disease="sle", age_years=10)
    s = result["summary"]
    assert crit(result, "mas2016")["status"] == "met" and crit(result, "mas2016")["population"] == "outside"
    assert crit(result, "parodi2009")["status"] != "met"
    assert s["mas_signal"] != "suggestive" and s["other_population_met"] == ["mas2016"]
    assert not s["headline"].startswith("Features suggestive") and "2016" not in s["headline"]
    assert s["other_population_line"].startswith("Also met by instruments built for other populations")
    assert "indicative only" in s["other_population_line"] and "2016 MAS criteria" in s["other_population_line"]
    assert not any("2016" in line for line in s["supporting"])
    assert any(line.startswith("Indicative only (built for") for line in s["indicative"])
    assert any("Also met by instruments built for other populations" in c for c in s["caveats"])


HAZARD_LOG = ROOT / "docs" / "safety" / "hazard-log.md"
_CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_test_the_hazard_log_cites_exists():
    """The log names each control's proof as `file::test`; every one must be a test function."""
    cited = _CITED.findall(HAZARD_LOG.read_text(encoding="utf-8"))
    assert len(cited) > 40
    missing = []
    for path, name in sorted(set(cited)):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        if name not in names or not name.startswith("test_"):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_hazard_has_cause_effect_controls_and_tests():
    text = HAZARD_LOG.read_text(encoding="utf-8")
    sections = re.split(r"^## (H\d\d) — ", text, flags=re.MULTILINE)[1:]
    hazards = dict(zip(sections[::2], sections[1::2], strict=True))
    assert len(hazards) >= 15
    for hid, body in hazards.items():
        for part in ("**Cause.**", "**Effect.**"):
            assert part in body, f"{hid} has no {part}"
        assert "**Controls.**" in body or "**Control.**" in body, hid
        assert _CITED.search(body) or "**Measured**" in body, f"{hid} cites no test"
