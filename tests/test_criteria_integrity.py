"""Criteria data integrity: every published rule as the paper prints it, and a broken file stops the app.

(a) PUBLISHED holds one row per item (components included) and per cut-off of every instrument in
    criteria/*.yaml: the rule in the paper's own notation and unit (HLH-2004 haemoglobin "< 90 g/L",
    not the YAML's 9.0 g/dL), with where it is printed (paper, table; criteria-spec.md section).
    The rows were typed from /work/shared/criteria-spec.md, never generated from the YAML, so a
    typo in either place fails: comparator, threshold (converted exactly from the paper's unit
    with analytes.yaml factors), unit, points and coefficients are compared with what loaded.
    tests/test_criteria_data.py keeps a second hand-typed copy in the YAML's own terms; two
    independent copies in two notations must both agree with the data.
(b) Each row's citation key is the YAML item's source and resolves in references/references.yaml
    to the paper the row names (first author and year).
(c) A broken criteria copy (MAS_SCREEN_CRITERIA_DIR) stops app.py at start with one clear
    message naming the file and field, and the command line exits 3; an intact copy runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from streamlit.testing.v1 import AppTest
from test_criteria_data import all_paths, spec_item

from mas_screen.criteria.loading import CRITERIA_DIR_ENV, criteria, criteria_dir
from mas_screen.criteria.schema import ItemSpec, parse_factor

APP = str(ROOT / "app.py")


def P(iid: str, path: str, source: str, where: str, rule: str):
    """One published rule: `path` is item[/component] or "cutoff" / "cutoff:<value>" (additional)."""
    return pytest.param(iid, path, source, where, rule, id=f"{iid}-{path}")


# Notation: "<op> <number> <unit>" (ops > >= < <=), "-> <points>", bands joined by " | ",
# "present", "x <coefficient>", "<n> of <m>", "<count> lineages -> <points>", "none/one/both -> <points>".
# fmt: off
PUBLISHED = [
    # Ravelli 2016, Arthritis Rheumatol 68:566 (and Ann Rheum Dis 75:481): classification rule table (spec §1)
    P("mas2016", "fever", "ravelli2016", "Ravelli 2016, rule: 'a febrile patient'; >= 38.0 degC is the project's convention (spec Decisions)", ">= 38.0 degC"),
    P("mas2016", "ferritin", "ravelli2016", "Ravelli 2016, classification criteria table (spec §1)", "> 684 ng/mL"),
    P("mas2016", "platelets", "ravelli2016", "Ravelli 2016, classification criteria table (spec §1)", "<= 181 10^9/L"),
    P("mas2016", "ast", "ravelli2016", "Ravelli 2016, classification criteria table (spec §1)", "> 48 U/L"),
    P("mas2016", "triglycerides", "ravelli2016", "Ravelli 2016, classification criteria table (spec §1)", "> 156 mg/dL"),
    P("mas2016", "fibrinogen", "ravelli2016", "Ravelli 2016, classification criteria table (spec §1)", "<= 360 mg/dL"),
    # Minoia 2019, Ann Rheum Dis 78:1357, Table 4 (spec §2)
    P("ms_score", "cns_involvement", "minoia2019", "Minoia 2019, Table 4", "x 2.44"),
    P("ms_score", "hemorrhagic_manifestations", "minoia2019", "Minoia 2019, Table 4", "x 1.54"),
    P("ms_score", "active_arthritis", "minoia2019", "Minoia 2019, Table 4", "x -1.30"),
    P("ms_score", "platelets", "minoia2019", "Minoia 2019, Table 4 (platelets x10^9/L)", "x -0.003 10^9/L"),
    P("ms_score", "ldh", "minoia2019", "Minoia 2019, Table 4 (LDH U/L)", "x 0.001 U/L"),
    P("ms_score", "fibrinogen", "minoia2019", "Minoia 2019, Table 4 (fibrinogen mg/dL)", "x -0.004 mg/dL"),
    P("ms_score", "ferritin", "minoia2019", "Minoia 2019, Table 4 (ferritin ng/mL)", "x 0.0001 ng/mL"),
    P("ms_score", "cutoff", "minoia2019", "Minoia 2019, abstract: MS >= -2.1", ">= -2.1"),
    P("ms_score", "cutoff:-1.74", "yao2021", "Yao 2021, Clin Exp Rheumatol: optimal AOSD cut-off (spec §11b)", ">= -1.74"),
    # Minoia 2017, J Pediatr 189:72: score table (secondary summary; spec §3, UNCONFIRMED)
    P("mh_score", "age_at_onset", "minoia2017", "Minoia 2017, MH score table (spec §3)", "<= 1.6 years -> 37"),
    P("mh_score", "neutrophils", "minoia2017", "Minoia 2017, MH score table (spec §3)", "<= 1.4 10^9/L -> 37"),
    P("mh_score", "fibrinogen", "minoia2017", "Minoia 2017, MH score table (spec §3)", "<= 131 mg/dL -> 15"),
    P("mh_score", "splenomegaly", "minoia2017", "Minoia 2017, MH score table (spec §3)", "present -> 12"),
    P("mh_score", "platelets", "minoia2017", "Minoia 2017, MH score table (spec §3)", "<= 78 10^9/L -> 11"),
    P("mh_score", "hemoglobin", "minoia2017", "Minoia 2017, MH score table (spec §3)", "<= 8.3 g/dL -> 11"),
    P("mh_score", "cutoff", "minoia2017", "Minoia 2017 as reported in secondary sources (spec §3, UNCONFIRMED)", ">= 60"),
    # Fardet 2014, Arthritis Rheumatol 66:2613: HScore variables table (spec §4)
    P("hscore", "immunosuppression", "fardet2014", "Fardet 2014, HScore table", "present -> 18"),
    P("hscore", "temperature", "fardet2014", "Fardet 2014, HScore table", "< 38.4 degC -> 0 | >= 38.4 and <= 39.4 -> 33 | > 39.4 -> 49"),
    P("hscore", "organomegaly", "fardet2014", "Fardet 2014, HScore table", "none -> 0 | one -> 23 | both -> 38"),
    P("hscore", "cytopenias", "fardet2014", "Fardet 2014, HScore table (number of cytopenic lineages)", "0 lineages -> 0 | 1 lineages -> 0 | 2 lineages -> 24 | 3 lineages -> 34"),
    P("hscore", "cytopenias/hemoglobin", "fardet2014", "Fardet 2014, HScore table footnote", "<= 92 g/L"),
    P("hscore", "cytopenias/wbc", "fardet2014", "Fardet 2014, HScore table footnote (leukocytes)", "<= 5.0 10^9/L"),
    P("hscore", "cytopenias/platelets", "fardet2014", "Fardet 2014, HScore table footnote", "<= 110 10^9/L"),
    P("hscore", "ferritin", "fardet2014", "Fardet 2014, HScore table", "< 2000 ng/mL -> 0 | >= 2000 and <= 6000 -> 35 | > 6000 -> 50"),
    P("hscore", "triglycerides", "fardet2014", "Fardet 2014, HScore table", "< 1.5 mmol/L -> 0 | >= 1.5 and <= 4.0 -> 44 | > 4.0 -> 64"),
    P("hscore", "fibrinogen", "fardet2014", "Fardet 2014, HScore table", "> 2.5 g/L -> 0 | <= 2.5 -> 30"),
    P("hscore", "ast", "fardet2014", "Fardet 2014, HScore table", "< 30 U/L -> 0 | >= 30 -> 19"),
    P("hscore", "hemophagocytosis_marrow", "fardet2014", "Fardet 2014, HScore table", "present -> 35"),
    P("hscore", "cutoff", "fardet2014", "Fardet 2014, best cut-off (sensitivity 93%, specificity 86%)", ">= 169"),
    P("hscore", "cutoff:200", "bilston2022", "Bilston 2022, Alberta cohort: >= 200 performed like HLH-2004 (spec §4)", ">= 200"),
    # Henter 2007, Pediatr Blood Cancer 48:124: HLH-2004 diagnostic criteria table (spec §5)
    P("hlh2004", "fever", "henter2007", "Henter 2007, criterion 1 'fever'; >= 38.5 degC from HLH-94 (spec §5, adaptation)", ">= 38.5 degC"),
    P("hlh2004", "splenomegaly", "henter2007", "Henter 2007, criterion 2", "present"),
    P("hlh2004", "cytopenias", "henter2007", "Henter 2007, criterion 3: cytopenias affecting >= 2 of 3 lineages", "2 of 3"),
    P("hlh2004", "cytopenias/hemoglobin", "henter2007", "Henter 2007, criterion 3: Hb < 90 g/L (infants < 4 weeks: < 100 g/L)", "< 90 g/L; age < 28 days: < 100 g/L"),
    P("hlh2004", "cytopenias/platelets", "henter2007", "Henter 2007, criterion 3", "< 100 10^9/L"),
    P("hlh2004", "cytopenias/neutrophils", "henter2007", "Henter 2007, criterion 3", "< 1.0 10^9/L"),
    P("hlh2004", "triglycerides_fibrinogen", "henter2007", "Henter 2007, criterion 4: hypertriglyceridaemia and/or hypofibrinogenaemia", "any of"),
    P("hlh2004", "triglycerides_fibrinogen/triglycerides", "henter2007", "Henter 2007, criterion 4: fasting TG >= 3.0 mmol/L", ">= 3.0 mmol/L"),
    P("hlh2004", "triglycerides_fibrinogen/fibrinogen", "henter2007", "Henter 2007, criterion 4: fibrinogen <= 1.5 g/L", "<= 1.5 g/L"),
    P("hlh2004", "hemophagocytosis", "henter2007", "Henter 2007, criterion 5: marrow, spleen or lymph nodes", "present"),
    P("hlh2004", "nk_activity", "henter2007", "Henter 2007, criterion 6", "present"),
    P("hlh2004", "ferritin", "henter2007", "Henter 2007, criterion 7", ">= 500 ng/mL"),
    P("hlh2004", "scd25", "henter2007", "Henter 2007, criterion 8", ">= 2400 U/mL"),
    # Eloseily 2019, ACR Open Rheumatol 1:345: abstract, ratio 21.5 (spec §6; ">=" is the project's decision)
    P("ferritin_esr", "ratio", "eloseily2019", "Eloseily 2019, abstract: ferritin (ng/mL) / ESR (mm/h), cut-off 21.5", ">= 21.5"),
    P("ferritin_esr", "cutoff", "eloseily2019", "Eloseily 2019, abstract (inequality decided, spec Decisions)", ">= 21.5"),
    # Parodi 2009, Arthritis Rheum 60:3388: preliminary guidelines table (spec §9)
    P("parodi2009", "fever", "parodi2009", "Parodi 2009, clinical criteria", "> 38 degC"),
    P("parodi2009", "hepatomegaly", "parodi2009", "Parodi 2009, clinical criteria", ">= 3 cm"),
    P("parodi2009", "splenomegaly", "parodi2009", "Parodi 2009, clinical criteria", ">= 3 cm"),
    P("parodi2009", "hemorrhagic_manifestations", "parodi2009", "Parodi 2009, clinical criteria", "present"),
    P("parodi2009", "cns_involvement", "parodi2009", "Parodi 2009, clinical criteria", "present"),
    P("parodi2009", "cytopenias", "parodi2009", "Parodi 2009, laboratory criteria: cytopenia in >= 2 lineages", "2 of 3"),
    P("parodi2009", "cytopenias/wbc", "parodi2009", "Parodi 2009, laboratory criteria", "<= 4.0 10^9/L"),
    P("parodi2009", "cytopenias/hemoglobin", "parodi2009", "Parodi 2009, laboratory criteria: Hb <= 90 g/L", "<= 90 g/L"),
    P("parodi2009", "cytopenias/platelets", "parodi2009", "Parodi 2009, laboratory criteria", "<= 150 10^9/L"),
    P("parodi2009", "ast", "parodi2009", "Parodi 2009, laboratory criteria", "> 40 U/L"),
    P("parodi2009", "ldh", "parodi2009", "Parodi 2009, laboratory criteria", "> 567 U/L"),
    P("parodi2009", "fibrinogen", "parodi2009", "Parodi 2009, laboratory criteria", "<= 1.5 g/L"),
    P("parodi2009", "triglycerides", "parodi2009", "Parodi 2009, laboratory criteria", "> 178 mg/dL"),
    P("parodi2009", "ferritin", "parodi2009", "Parodi 2009, laboratory criteria: ferritin > 500 ug/L", "> 500 ng/mL"),
    P("parodi2009", "hemophagocytosis_marrow", "parodi2009", "Parodi 2009, histopathology: supportive only", "present"),
    # Zoref-Lorenz 2022, Blood 139:1098: abstract and key points (spec §10; the abstract's strict ">")
    P("ohi", "scd25", "zoref_lorenz2022", "Zoref-Lorenz 2022, abstract", "> 3900 U/mL"),
    P("ohi", "ferritin", "zoref_lorenz2022", "Zoref-Lorenz 2022, abstract", "> 1000 ng/mL"),
]
# fmt: on

# ------------------------------------------------------------------------------------ parsing

_CONDITION = re.compile(r"^(>=|<=|>|<) (-?[\d.]+)(?: (.+))?$")
_POINTS = re.compile(r"^(.*?)(?: -> (-?[\d.]+))?$")


def _number(text: str) -> Decimal:
    return Decimal(text)


def _condition(text: str) -> tuple[str, Decimal, str | None]:
    match = _CONDITION.match(text.strip())
    assert match, f"cannot read the published condition {text!r}"
    return match.group(1), _number(match.group(2)), match.group(3)


def _to_item_unit(value: Decimal, analyte: str, published_unit: str | None, item_unit: str | None) -> Decimal:
    """The published number in the YAML item's unit (exact decimal, analytes.yaml factors)."""
    if published_unit is None or published_unit == item_unit or analyte is None:
        return value
    units = {u.unit: u for u in criteria().analytes.analytes[analyte].units}
    source, target = units[published_unit], units[item_unit]
    with localcontext() as ctx:
        ctx.prec = 40
        canonical = (value + Decimal(repr(source.offset))) * parse_factor(source.factor)
        return canonical / parse_factor(target.factor) - Decimal(repr(target.offset))


def _same(published: Decimal, loaded: float | int) -> bool:
    return published.normalize() == Decimal(repr(loaded)).normalize()


def _analyte(item: ItemSpec) -> str | None:
    if item.analyte:
        return item.analyte
    if item.kind == "fever":
        return "temperature"
    return None


def checkspec_item(item: ItemSpec, rule: str) -> None:
    """Compare one YAML item with its published rule; fails naming the field that differs."""
    where = f"{item.id} ({item.kind})"
    if item.kind in ("threshold", "fever", "organ_size", "age_at_onset", "ratio"):
        main_rule, _, infant = rule.partition("; age < ")
        text, points = _POINTS.match(main_rule).groups()
        op, value, unit = _condition(text)
        assert item.comparator == op, f"{where}: comparator {item.comparator!r}, published {op!r}"
        expected = _to_item_unit(value, _analyte(item), unit, item.unit)
        assert _same(expected, item.threshold), f"{where}: threshold {item.threshold!r}, published {text!r}"
        if unit is not None and _analyte(item) is None:
            assert item.unit == unit, f"{where}: unit {item.unit!r}, published {unit!r}"
        assert (item.points is None) == (points is None), f"{where}: points {item.points!r}, published {points!r}"
        if points is not None:
            assert _same(_number(points), item.points), f"{where}: points {item.points!r}, published {points!r}"
        if infant:
            days, _, infant_rule = infant.partition(" days: ")
            i_op, i_value, i_unit = _condition(infant_rule)
            assert item.infant_rule is not None, f"{where}: no infant rule"
            assert _same(_number(days), item.infant_rule.age_below_days)
            assert i_op == item.comparator
            assert _same(_to_item_unit(i_value, item.analyte, i_unit, item.unit), item.infant_rule.threshold)
        else:
            assert item.infant_rule is None, f"{where}: an infant rule the paper row does not state"
    elif item.kind == "bands":
        bands = rule.split(" | ")
        assert len(bands) == len(item.bands), f"{where}: {len(item.bands)} bands, published {len(bands)}"
        unit = None
        for band_text, band in zip(bands, item.bands, strict=True):
            conditions_text, points = _POINTS.match(band_text).groups()
            conditions = []
            for part in conditions_text.split(" and "):
                op, value, part_unit = _condition(part)
                unit = part_unit or unit
                conditions.append((op, _to_item_unit(value, item.analyte, unit, item.unit)))
            loaded = band.conditions
            assert len(loaded) == len(conditions), f"{where}: band {band_text!r}"
            for (op, value), (l_op, l_value) in zip(conditions, loaded, strict=True):
                assert op == l_op and _same(value, l_value), f"{where}: band {band_text!r}, loaded {loaded}"
            assert _same(_number(points), band.points), f"{where}: band {band_text!r} points {band.points}"
    elif item.kind in ("flag", "any_flag"):
        text, points = _POINTS.match(rule).groups()
        assert text == "present"
        assert (item.points is None) == (points is None), f"{where}: points {item.points!r}, published {points!r}"
        if points is not None:
            assert _same(_number(points), item.points)
    elif item.kind == "linear":
        match = re.match(r"^x (-?[\d.]+)(?: (.+))?$", rule)
        assert match, rule
        assert _same(_number(match.group(1)), item.coefficient), f"{where}: coefficient {item.coefficient!r}"
        assert item.unit == match.group(2), f"{where}: unit {item.unit!r}, published {match.group(2)!r}"
    elif item.kind == "lineages":
        if " of " in rule:
            required, total = rule.split(" of ")
            assert item.required == int(required) and len(item.items) == int(total), f"{where}: {rule}"
        else:
            published = {}
            for part in rule.split(" | "):
                count, points = re.match(r"^(\d+) lineages -> (\d+)$", part).groups()
                published[int(count)] = int(points)
            assert item.points_by_count == published, f"{where}: {item.points_by_count}, published {published}"
    elif item.kind == "organomegaly":
        published = {k: int(v) for k, v in (p.split(" -> ") for p in rule.split(" | "))}
        assert item.organ_points == published, f"{where}: {item.organ_points}, published {published}"
    elif item.kind == "any_of":
        assert rule == "any of" and item.sub_items()
    else:  # pragma: no cover - a new kind needs a notation here
        raise AssertionError(f"{where}: no notation for kind {item.kind!r}")


# ---------------------------------------------------------------------------------- (a) + (b)


@pytest.mark.parametrize(("iid", "path", "source", "where", "rule"), PUBLISHED)
def test_data_matches_the_rule_as_published(iid, path, source, where, rule):
    spec = criteria().instruments[iid]
    if path.startswith("cutoff"):
        _, _, extra = path.partition(":")
        cuts = [spec.cutoff] if not extra else [c for c in spec.additional_cutoffs if _same(Decimal(extra), c.value)]
        assert len(cuts) == 1 and cuts[0] is not None, f"{iid}: no cut-off {path}"
        cut = cuts[0]
        op, value, _ = _condition(rule)
        assert (cut.comparator, _same(value, cut.value)) == (op, True), (
            f"{iid}: {cut.comparator} {cut.value}, published {rule}"
        )
        assert cut.source == source
    else:
        item = spec_item(iid, path)
        checkspec_item(item, rule)
        assert item.source == source, f"{iid}/{path}: source {item.source!r}, published in {source!r}"


@pytest.mark.parametrize(("iid", "path", "source", "where", "rule"), PUBLISHED)
def test_each_row_names_the_paper_its_citation_key_resolves_to(iid, path, source, where, rule):
    references = criteria().references
    assert source in references, f"{source!r} is not in references/references.yaml"
    ref = references[source]
    first_author = ref.authors.split(",")[0].split()[0]
    assert where.startswith(f"{first_author} {ref.year}"), f"row says {where!r}; {source} is {first_author} {ref.year}"


@pytest.mark.parametrize("iid", sorted(criteria().instruments))
def test_every_item_and_cutoff_has_a_published_row(iid):
    spec = criteria().instruments[iid]
    rows = [p.values[1] for p in PUBLISHED if p.values[0] == iid]
    assert len(rows) == len(set(rows)), f"{iid}: a row is typed twice"
    expected = all_paths(iid)
    if spec.cutoff is not None:
        expected.add("cutoff")
    expected |= {f"cutoff:{format(Decimal(repr(c.value)).normalize(), 'f')}" for c in spec.additional_cutoffs}
    assert set(rows) == expected


def test_a_typo_in_the_data_fails_the_comparison():
    """The comparison is not vacuous: a threshold one unit off, or a flipped comparator, fails."""
    item = spec_item("mas2016", "ferritin")
    checkspec_item(item, "> 684 ng/mL")
    with pytest.raises(AssertionError, match="threshold"):
        checkspec_item(item.model_copy(update={"threshold": 864}), "> 684 ng/mL")
    with pytest.raises(AssertionError, match="comparator"):
        checkspec_item(item.model_copy(update={"comparator": ">="}), "> 684 ng/mL")
    hb = spec_item("hlh2004", "cytopenias/hemoglobin")
    with pytest.raises(AssertionError, match="threshold"):
        checkspec_item(
            hb.model_copy(update={"threshold": 90}), "< 90 g/L; age < 28 days: < 100 g/L"
        )  # g/L typed as g/dL


# ----------------------------------------------------------------------- (c) a broken copy stops the app


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "criteria"
    shutil.copytree(ROOT / "criteria", target)
    return target


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BREAKS = [
    pytest.param(
        "mas2016.yaml",
        "threshold: 684",
        'threshold: "684"',
        ["mas2016.yaml", "items.1.threshold"],
        id="threshold-as-text",
    ),
    pytest.param(
        "hscore.yaml", "source: fardet2014", "source: fardet2041", ["hscore.yaml", "fardet2041"], id="unknown-citation"
    ),
    pytest.param("ohi.yaml", 'comparator: ">"', 'comparator: "=>"', ["ohi.yaml", "comparator"], id="bad-comparator"),
    pytest.param("hlh2004.yaml", "items:", "items: [unclosed", ["hlh2004.yaml", "not valid YAML"], id="invalid-yaml"),
    pytest.param("analytes.yaml", None, None, ["analytes.yaml", "not found"], id="missing-file"),
]


@pytest.fixture
def broken_copy(tmp_path, monkeypatch):
    """Point MAS_SCREEN_CRITERIA_DIR at a copy (the test breaks it), reloading the criteria cache."""
    directory = _copy(tmp_path)
    monkeypatch.setenv(CRITERIA_DIR_ENV, str(directory))
    criteria.cache_clear()
    yield directory
    criteria.cache_clear()  # the next caller reloads the project's own criteria


def _break(directory: Path, name: str, old: str | None, new: str | None) -> None:
    if old is None:
        (directory / name).unlink()
    else:
        _replace(directory / name, old, new)


@pytest.mark.parametrize(("name", "old", "new", "expected"), BREAKS)
def test_broken_criteria_stop_the_app_at_start_with_a_clear_message(broken_copy, name, old, new, expected):
    _break(broken_copy, name, old, new)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("MAS Screen cannot start: its criteria data is broken")
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert not at.text_input and not at.button, "no page may run on broken criteria"


@pytest.mark.parametrize(("name", "old", "new", "expected"), BREAKS[:2])
def test_broken_criteria_make_the_command_line_exit_3(tmp_path, name, old, new, expected):
    directory = _copy(tmp_path)
    _break(directory, name, old, new)
    env = {**os.environ, CRITERIA_DIR_ENV: str(directory)}
    proc = subprocess.run(
        [sys.executable, "-m", "mas_screen", "assess", "-"],
        input=b'{"labs": {"ferritin": 2500}}',
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 3 and proc.stdout == b""
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "criteria data error" in err
    for part in expected:
        assert part in err


def test_an_intact_copy_runs_the_app(broken_copy):
    assert criteria_dir() == broken_copy
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception and not at.error
    assert at.text_input(key="lab::ferritin") is not None


def test_without_the_variable_the_checkout_criteria_are_read(monkeypatch):
    monkeypatch.delenv(CRITERIA_DIR_ENV, raising=False)
    assert criteria_dir() == ROOT / "criteria"
    monkeypatch.setenv(CRITERIA_DIR_ENV, "  ")
    assert criteria_dir() == ROOT / "criteria"


def test_every_citation_key_of_the_rows_is_used_in_the_data():
    """The table cites what the data cites: a key only the table knows would be a stale row."""
    cited: set[str] = set()
    for path in (ROOT / "criteria").glob("*.yaml"):
        cited |= set(re.findall(r"source: ([a-z_0-9]+)", path.read_text(encoding="utf-8")))
    assert {p.values[2] for p in PUBLISHED} <= cited
    assert yaml.safe_load((ROOT / "references" / "references.yaml").read_text(encoding="utf-8")).keys() >= cited


# ------------------------------------------------------------------------- versions (outdated criteria)

EDITIONS = [
    # (instrument, edition in use, its paper) — criteria-spec.md; superseded editions are not used:
    # the 2005 preliminary sJIA-MAS guidelines (platelets <= 262, AST > 59) gave way to the 2016 criteria.
    pytest.param("mas2016", "2016", "ravelli2016", id="mas2016"),
    pytest.param("ms_score", "2019", "minoia2019", id="ms_score"),
    pytest.param("mh_score", "2017", "minoia2017", id="mh_score"),
    pytest.param("hscore", "2014", "fardet2014", id="hscore"),
    pytest.param("hlh2004", "2004", "henter2007", id="hlh2004"),  # HLH-2004 protocol, published 2007
    pytest.param("ferritin_esr", "2019", "eloseily2019", id="ferritin_esr"),
    pytest.param("parodi2009", "2009", "parodi2009", id="parodi2009"),
    pytest.param("ohi", "2022", "zoref_lorenz2022", id="ohi"),
]


@pytest.mark.parametrize(("iid", "version", "reference"), EDITIONS)
def test_each_instrument_is_the_edition_in_use(iid, version, reference):
    spec = criteria().instruments[iid]
    assert spec.version == version
    assert spec.references == [reference]


def test_superseded_2005_guideline_numbers_are_not_used():
    mas2016 = criteria().instruments["mas2016"]
    thresholds = {(it.analyte, it.threshold) for it in mas2016.items if it.analyte}
    assert ("platelets", 262) not in thresholds and ("ast", 59) not in thresholds
