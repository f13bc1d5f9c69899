"""The criteria data files against an independent, hand-typed copy of the published numbers.

(a) Every item of every instrument, every cut-off, coefficient, band and the HScore probability
    table is typed here from criteria-spec.md with its source, and compared with what
    `criteria()` loaded: a typo in either place fails.
(b) Every citation key used anywhere resolves in references/references.yaml.
(c) A broken data file fails loudly at load time with CriteriaDataError naming the file and field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from conftest import run

from mas_screen.criteria.loading import criteria, load_criteria
from mas_screen.criteria.schema import CriteriaDataError, ItemSpec, parse_factor

ROOT = Path(__file__).resolve().parents[1]


def spec_item(iid: str, path: str) -> ItemSpec:
    """`path` is "item" or "item/component"."""
    parts = path.split("/")
    found = criteria().instruments[iid].item(parts[0])
    for sub_id in parts[1:]:
        found = next(sub for sub in found.sub_items() if sub.id == sub_id)
    return found


def all_paths(iid: str) -> set[str]:
    paths: set[str] = set()

    def walk(items, prefix=""):
        for it in items:
            paths.add(prefix + it.id)
            walk(it.sub_items(), prefix + it.id + "/")

    walk(criteria().instruments[iid].items)
    return paths


def E(iid, path, *, why, **fields):
    """One row: the item at `path`, `why` = the published rule it encodes, `fields` = expected values."""
    return pytest.param(iid, path, why, fields, id=f"{iid}-{path}")


# ----------------------------------------------------------------------------- (a) expected items

# fmt: off
EXPECTED_ITEMS = [
    # ---- 2016 EULAR/ACR/PRINTO classification criteria: Ravelli 2016 (Arthritis Rheumatol 68:566), spec §1
    E("mas2016", "fever", why="febrile patient; project convention >= 38.0 degC (spec Decisions)", kind="fever", role="entry", comparator=">=", threshold=38.0, unit="degC", source="ravelli2016"),
    E("mas2016", "ferritin", why="ferritin > 684 ng/mL, mandatory", kind="threshold", role="mandatory", analyte="ferritin", comparator=">", threshold=684, unit="ng/mL", source="ravelli2016"),
    E("mas2016", "platelets", why="platelets <= 181 x10^9/L", kind="threshold", role="companion", analyte="platelets", comparator="<=", threshold=181, unit="10^9/L", source="ravelli2016"),
    E("mas2016", "ast", why="AST > 48 U/L", kind="threshold", role="companion", analyte="ast", comparator=">", threshold=48, unit="U/L", source="ravelli2016"),
    E("mas2016", "triglycerides", why="TG > 156 mg/dL", kind="threshold", role="companion", analyte="triglycerides", comparator=">", threshold=156, unit="mg/dL", source="ravelli2016"),
    E("mas2016", "fibrinogen", why="fibrinogen <= 360 mg/dL", kind="threshold", role="companion", analyte="fibrinogen", comparator="<=", threshold=360, unit="mg/dL", source="ravelli2016"),
    # ---- MS score: Minoia 2019 (Ann Rheum Dis 78:1357) Table 4, spec §2
    E("ms_score", "cns_involvement", why="+2.44 x CNS", kind="linear", field="cns_involvement", coefficient=2.44, source="minoia2019"),
    E("ms_score", "hemorrhagic_manifestations", why="+1.54 x haemorrhage", kind="linear", field="hemorrhagic_manifestations", coefficient=1.54, source="minoia2019"),
    E("ms_score", "active_arthritis", why="-1.30 x arthritis", kind="linear", field="active_arthritis", coefficient=-1.30, source="minoia2019"),
    E("ms_score", "platelets", why="-0.003 x PLT (x10^9/L)", kind="linear", analyte="platelets", unit="10^9/L", coefficient=-0.003, source="minoia2019"),
    E("ms_score", "ldh", why="+0.001 x LDH (U/L)", kind="linear", analyte="ldh", unit="U/L", coefficient=0.001, source="minoia2019"),
    E("ms_score", "fibrinogen", why="-0.004 x fibrinogen (mg/dL)", kind="linear", analyte="fibrinogen", unit="mg/dL", coefficient=-0.004, source="minoia2019"),
    E("ms_score", "ferritin", why="+0.0001 x ferritin (ng/mL)", kind="linear", analyte="ferritin", unit="ng/mL", coefficient=0.0001, source="minoia2019"),
    # ---- MH score: Minoia 2017 (J Pediatr 189:72), spec §3 (points UNCONFIRMED, secondary summary)
    E("mh_score", "age_at_onset", why="age at onset <= 1.6 y: 37", kind="age_at_onset", field="age_at_onset_years", fallback_field="age_years", comparator="<=", threshold=1.6, unit="years", points=37, source="minoia2017"),
    E("mh_score", "neutrophils", why="neutrophils <= 1.4 x10^9/L: 37", kind="threshold", analyte="neutrophils", comparator="<=", threshold=1.4, unit="10^9/L", points=37, source="minoia2017"),
    E("mh_score", "fibrinogen", why="fibrinogen <= 131 mg/dL: 15", kind="threshold", analyte="fibrinogen", comparator="<=", threshold=131, unit="mg/dL", points=15, source="minoia2017"),
    E("mh_score", "splenomegaly", why="splenomegaly: 12", kind="flag", field="splenomegaly", points=12, source="minoia2017"),
    E("mh_score", "platelets", why="platelets <= 78 x10^9/L: 11", kind="threshold", analyte="platelets", comparator="<=", threshold=78, unit="10^9/L", points=11, source="minoia2017"),
    E("mh_score", "hemoglobin", why="Hb <= 8.3 g/dL: 11", kind="threshold", analyte="hemoglobin", comparator="<=", threshold=8.3, unit="g/dL", points=11, source="minoia2017"),
    # ---- HScore: Fardet 2014 (Arthritis Rheumatol 66:2613), spec §4
    E("hscore", "immunosuppression", why="known immunosuppression: 18", kind="flag", field="known_immunosuppression", points=18, source="fardet2014"),
    E("hscore", "temperature", why="< 38.4: 0; 38.4-39.4: 33; > 39.4: 49", kind="bands", analyte="temperature", unit="degC", bands=[(0, {"lt": 38.4}), (33, {"ge": 38.4, "le": 39.4}), (49, {"gt": 39.4})], source="fardet2014"),
    E("hscore", "organomegaly", why="none 0; liver or spleen 23; both 38", kind="organomegaly", organ_points={"none": 0, "one": 23, "both": 38}, source="fardet2014"),
    E("hscore", "cytopenias", why="1 lineage 0; 2 lineages 24; 3 lineages 34", kind="lineages", points_by_count={0: 0, 1: 0, 2: 24, 3: 34}, source="fardet2014"),
    E("hscore", "cytopenias/hemoglobin", why="Hb <= 9.2 g/dL", kind="threshold", role="component", analyte="hemoglobin", comparator="<=", threshold=9.2, unit="g/dL", source="fardet2014"),
    E("hscore", "cytopenias/wbc", why="leukocytes <= 5.0 x10^9/L", kind="threshold", role="component", analyte="wbc", comparator="<=", threshold=5.0, unit="10^9/L", source="fardet2014"),
    E("hscore", "cytopenias/platelets", why="platelets <= 110 x10^9/L", kind="threshold", role="component", analyte="platelets", comparator="<=", threshold=110, unit="10^9/L", source="fardet2014"),
    E("hscore", "ferritin", why="< 2000: 0; 2000-6000: 35; > 6000: 50", kind="bands", analyte="ferritin", unit="ng/mL", bands=[(0, {"lt": 2000}), (35, {"ge": 2000, "le": 6000}), (50, {"gt": 6000})], source="fardet2014"),
    E("hscore", "triglycerides", why="< 1.5: 0; 1.5-4.0: 44; > 4.0: 64 (mmol/L)", kind="bands", analyte="triglycerides", unit="mmol/L", bands=[(0, {"lt": 1.5}), (44, {"ge": 1.5, "le": 4.0}), (64, {"gt": 4.0})], source="fardet2014"),
    E("hscore", "fibrinogen", why="> 2.5: 0; <= 2.5: 30 (g/L)", kind="bands", analyte="fibrinogen", unit="g/L", bands=[(0, {"gt": 2.5}), (30, {"le": 2.5})], source="fardet2014"),
    E("hscore", "ast", why="< 30: 0; >= 30: 19 (U/L)", kind="bands", analyte="ast", unit="U/L", bands=[(0, {"lt": 30}), (19, {"ge": 30})], source="fardet2014"),
    E("hscore", "hemophagocytosis_marrow", why="marrow haemophagocytosis: 35", kind="flag", field="hemophagocytosis_marrow", points=35, source="fardet2014"),
    # ---- HLH-2004: Henter 2007 (Pediatr Blood Cancer 48:124), spec §5
    E("hlh2004", "fever", why="fever; >= 38.5 degC adaptation (HLH-94 wording)", kind="fever", comparator=">=", threshold=38.5, unit="degC", source="henter2007"),
    E("hlh2004", "splenomegaly", why="splenomegaly", kind="flag", field="splenomegaly", source="henter2007"),
    E("hlh2004", "cytopenias", why=">= 2 of 3 lineages", kind="lineages", required=2, source="henter2007"),
    E("hlh2004", "cytopenias/hemoglobin", why="Hb < 90 g/L; infants < 4 weeks < 100 g/L", kind="threshold", role="component", analyte="hemoglobin", comparator="<", threshold=9.0, unit="g/dL", infant_rule={"age_below_days": 28, "threshold": 10.0}, source="henter2007"),
    E("hlh2004", "cytopenias/platelets", why="platelets < 100 x10^9/L", kind="threshold", role="component", analyte="platelets", comparator="<", threshold=100, unit="10^9/L", source="henter2007"),
    E("hlh2004", "cytopenias/neutrophils", why="neutrophils < 1.0 x10^9/L", kind="threshold", role="component", analyte="neutrophils", comparator="<", threshold=1.0, unit="10^9/L", source="henter2007"),
    E("hlh2004", "triglycerides_fibrinogen", why="TG and/or fibrinogen", kind="any_of", source="henter2007"),
    E("hlh2004", "triglycerides_fibrinogen/triglycerides", why="fasting TG >= 3.0 mmol/L", kind="threshold", role="component", analyte="triglycerides", comparator=">=", threshold=3.0, unit="mmol/L", source="henter2007"),
    E("hlh2004", "triglycerides_fibrinogen/fibrinogen", why="fibrinogen <= 1.5 g/L", kind="threshold", role="component", analyte="fibrinogen", comparator="<=", threshold=1.5, unit="g/L", source="henter2007"),
    E("hlh2004", "hemophagocytosis", why="marrow, spleen, lymph node (or liver)", kind="any_flag", fields=["hemophagocytosis_marrow", "hemophagocytosis_other_site"], source="henter2007"),
    E("hlh2004", "nk_activity", why="low or absent NK activity", kind="flag", field="nk_activity_low", source="henter2007"),
    E("hlh2004", "ferritin", why="ferritin >= 500 ug/L", kind="threshold", analyte="ferritin", comparator=">=", threshold=500, unit="ng/mL", source="henter2007"),
    E("hlh2004", "scd25", why="sCD25 >= 2400 U/mL", kind="threshold", analyte="scd25", comparator=">=", threshold=2400, unit="U/mL", source="henter2007"),
    # ---- Ferritin:ESR: Eloseily 2019 (ACR Open Rheumatol 1:345), spec §6; ">=" is the project's decision
    E("ferritin_esr", "ratio", why="ferritin (ng/mL) / ESR (mm/h) >= 21.5", kind="ratio", numerator="ferritin", numerator_unit="ng/mL", denominator="esr", denominator_unit="mm/h", comparator=">=", threshold=21.5, source="eloseily2019"),
    # ---- Parodi 2009 (Arthritis Rheum 60:3388), spec §9
    E("parodi2009", "fever", why="fever > 38 degC", kind="threshold", role="clinical", analyte="temperature", comparator=">", threshold=38, unit="degC", source="parodi2009"),
    E("parodi2009", "hepatomegaly", why="liver >= 3 cm below the costal arch", kind="organ_size", role="clinical", field="hepatomegaly", size_field="hepatomegaly_cm", comparator=">=", threshold=3, unit="cm", source="parodi2009"),
    E("parodi2009", "splenomegaly", why="spleen >= 3 cm below the costal arch", kind="organ_size", role="clinical", field="splenomegaly", size_field="splenomegaly_cm", comparator=">=", threshold=3, unit="cm", source="parodi2009"),
    E("parodi2009", "hemorrhagic_manifestations", why="haemorrhagic manifestations", kind="flag", role="clinical", field="hemorrhagic_manifestations", source="parodi2009"),
    E("parodi2009", "cns_involvement", why="CNS dysfunction", kind="flag", role="clinical", field="cns_involvement", source="parodi2009"),
    E("parodi2009", "cytopenias", why="cytopenia in >= 2 lineages", kind="lineages", role="laboratory", required=2, source="parodi2009"),
    E("parodi2009", "cytopenias/wbc", why="WBC <= 4.0 x10^9/L", kind="threshold", role="component", analyte="wbc", comparator="<=", threshold=4.0, unit="10^9/L", source="parodi2009"),
    E("parodi2009", "cytopenias/hemoglobin", why="Hb <= 90 g/L (9 g/dL, not 'mg/dL')", kind="threshold", role="component", analyte="hemoglobin", comparator="<=", threshold=9.0, unit="g/dL", source="parodi2009"),
    E("parodi2009", "cytopenias/platelets", why="platelets <= 150 x10^9/L", kind="threshold", role="component", analyte="platelets", comparator="<=", threshold=150, unit="10^9/L", source="parodi2009"),
    E("parodi2009", "ast", why="AST > 40 U/L", kind="threshold", role="laboratory", analyte="ast", comparator=">", threshold=40, unit="U/L", source="parodi2009"),
    E("parodi2009", "ldh", why="LDH > 567 U/L", kind="threshold", role="laboratory", analyte="ldh", comparator=">", threshold=567, unit="U/L", source="parodi2009"),
    E("parodi2009", "fibrinogen", why="fibrinogen <= 1.5 g/L", kind="threshold", role="laboratory", analyte="fibrinogen", comparator="<=", threshold=1.5, unit="g/L", source="parodi2009"),
    E("parodi2009", "triglycerides", why="TG > 178 mg/dL", kind="threshold", role="laboratory", analyte="triglycerides", comparator=">", threshold=178, unit="mg/dL", source="parodi2009"),
    E("parodi2009", "ferritin", why="ferritin > 500 ug/L", kind="threshold", role="laboratory", analyte="ferritin", comparator=">", threshold=500, unit="ng/mL", source="parodi2009"),
    E("parodi2009", "hemophagocytosis_marrow", why="marrow haemophagocytosis: supportive, not counted", kind="flag", role="supportive", field="hemophagocytosis_marrow", source="parodi2009"),
    # ---- OHI: Zoref-Lorenz 2022 (Blood 139:1098), spec §10; the abstract's strict ">"
    E("ohi", "scd25", why="sCD25 > 3900 U/mL", kind="threshold", analyte="scd25", comparator=">", threshold=3900, unit="U/mL", source="zoref_lorenz2022"),
    E("ohi", "ferritin", why="ferritin > 1000 ng/mL", kind="threshold", analyte="ferritin", comparator=">", threshold=1000, unit="ng/mL", source="zoref_lorenz2022"),
]
# fmt: on

NUMERIC_FIELDS = {"threshold", "points", "coefficient", "required"}


def _loaded_field(it: ItemSpec, name: str):
    if name == "bands":
        return [
            (b.points, {k: getattr(b, k) for k in ("gt", "ge", "lt", "le") if getattr(b, k) is not None})
            for b in it.bands
        ]
    if name == "infant_rule":
        rule = it.infant_rule
        return None if rule is None else {"age_below_days": rule.age_below_days, "threshold": rule.threshold}
    return getattr(it, name)


@pytest.mark.parametrize(("iid", "path", "why", "fields"), EXPECTED_ITEMS)
def test_item_matches_published_value(iid, path, why, fields):
    it = spec_item(iid, path)
    for name, expected in fields.items():
        loaded = _loaded_field(it, name)
        assert loaded == expected, f"{iid}/{path}.{name}: loaded {loaded!r}, published {expected!r} ({why})"
        if name in NUMERIC_FIELDS:
            assert type(loaded) in (int, float), f"{iid}/{path}.{name} is {type(loaded).__name__}, not a number"
    # An item without a hand-typed value must not carry one silently either.
    for name in ("threshold", "points", "coefficient"):
        if name not in fields:
            assert getattr(it, name) is None, f"{iid}/{path}.{name} = {getattr(it, name)!r} is not in the table"
    if "infant_rule" not in fields:
        assert it.infant_rule is None


@pytest.mark.parametrize("iid", sorted({p.values[0] for p in EXPECTED_ITEMS}))
def test_every_loaded_item_is_in_the_table(iid):
    expected = {p.values[1] for p in EXPECTED_ITEMS if p.values[0] == iid}
    assert all_paths(iid) == expected


def test_every_instrument_has_items_in_the_table():
    assert (
        {p.values[0] for p in EXPECTED_ITEMS}
        == set(criteria().instruments)
        == {
            "mas2016",
            "ms_score",
            "mh_score",
            "hscore",
            "hlh2004",
            "ferritin_esr",
            "parodi2009",
            "ohi",
        }
    )


# ---- cut-offs and rules

EXPECTED_CUTOFFS = [
    # (instrument, comparator, value, source key, source)
    pytest.param("ms_score", ">=", -2.1, "minoia2019", id="ms_score->=-2.1"),  # Minoia 2019 abstract
    pytest.param("mh_score", ">=", 60, "minoia2017", id="mh_score->=60"),  # secondary sources; UNCONFIRMED
    pytest.param("hscore", ">=", 169, "fardet2014", id="hscore->=169"),  # Fardet 2014
    pytest.param("ferritin_esr", ">=", 21.5, "eloseily2019", id="ferritin_esr->=21.5"),  # Eloseily 2019; >= decided
    pytest.param("mas2016", None, None, None, id="mas2016-rule-count"),
    pytest.param("hlh2004", None, None, None, id="hlh2004-rule-count"),
    pytest.param("parodi2009", None, None, None, id="parodi2009-rule-count"),
    pytest.param("ohi", None, None, None, id="ohi-both-items"),
]


@pytest.mark.parametrize(("iid", "comparator", "value", "source"), EXPECTED_CUTOFFS)
def test_cutoff(iid, comparator, value, source):
    cut = criteria().instruments[iid].cutoff
    if comparator is None:
        assert cut is None
        return
    assert (cut.comparator, cut.value, cut.source) == (comparator, value, source)


def test_ms_score_aosd_cutoff_and_rounding():
    spec = criteria().instruments["ms_score"]
    # Yao 2021 (Clin Exp Rheumatol): optimal AOSD cut-off >= -1.74; reported beside -2.1
    assert [(c.comparator, c.value, c.applies_to_diseases, c.source) for c in spec.additional_cutoffs] == [
        (">=", -1.74, ["aosd"], "yao2021")
    ]
    assert spec.score_round_places == 4  # contract: MS score rounded to 4 dp before comparing


def test_ferritin_esr_rounding():
    assert criteria().instruments["ferritin_esr"].score_round_places == 2  # contract: ratio shown to 2 dp


R = "hlh_molecular_diagnosis"


@pytest.mark.parametrize(
    ("iid", "rule"),
    [
        pytest.param(  # Ravelli 2016: fever and ferritin, plus any 2 of the 4 companions
            "mas2016",
            {"type": "count", "all_of": ["entry", "mandatory"], "at_least": {"companion": 2}, "counted": ["companion"]},
            id="mas2016-any-2-of-4",
        ),
        pytest.param(  # Henter 2007: 5 of 8, or a molecular diagnosis
            "hlh2004",
            {"type": "count", "at_least": {"criterion": 5}, "counted": ["criterion"], "override": R},
            id="hlh2004-5-of-8",
        ),
        pytest.param(  # Parodi 2009: >= 1 clinical and >= 2 laboratory
            "parodi2009",
            {"type": "count", "at_least": {"clinical": 1, "laboratory": 2}, "counted": ["clinical", "laboratory"]},
            id="parodi-1-clinical-2-lab",
        ),
        pytest.param("ohi", {"type": "count", "all_of": ["criterion"]}, id="ohi"),  # both items
        pytest.param("hscore", {"type": "points"}, id="hscore"),
        pytest.param("mh_score", {"type": "points"}, id="mh_score"),
        pytest.param("ms_score", {"type": "weighted_sum"}, id="ms_score"),
        pytest.param("ferritin_esr", {"type": "ratio"}, id="ferritin_esr"),
    ],
)
def test_rule(iid, rule):
    got = criteria().instruments[iid].rule.model_dump(exclude_defaults=True, exclude={"override_label"})
    assert got == rule


def test_hscore_probability_table():
    # Fardet 2014 table (spec §4): <=90 <1 | 100 1 | 110 3 | 120 5 | 130 9 | 140 16 | 150 25 | 160 40 |
    # 170 54 | 180 70 | 190 80 | 200 88 | 210 93 | 220 96 | 230 98 | 240 99 | >=250 >99
    table = criteria().instruments["hscore"].probability
    assert table.source == "fardet2014"
    assert [tuple(p) for p in table.points] == [
        (100, 1),
        (110, 3),
        (120, 5),
        (130, 9),
        (140, 16),
        (150, 25),
        (160, 40),
        (170, 54),
        (180, 70),
        (190, 80),
        (200, 88),
        (210, 93),
        (220, 96),
        (230, 98),
        (240, 99),
    ]
    # contract.md edge labels
    assert table.at_or_below == 90
    assert (table.at_or_below_edge.low_percent, table.at_or_below_edge.high_percent) == (0, 1)
    assert table.at_or_below_edge.label == "<1%"
    assert table.below_first_point.label == "≤1%"  # 91-99
    assert table.above_last_point.label == "≥99%"  # 241-249
    assert table.at_or_above == 250
    assert table.at_or_above_edge.label == ">99%"
    assert (table.at_or_above_edge.low_percent, table.at_or_above_edge.high_percent) == (99, 100)


def test_hscore_maximum_is_337():
    # spec §4: range 0-337 = 18 + 49 + 38 + 34 + 50 + 64 + 30 + 19 + 35
    spec = criteria().instruments["hscore"]
    top = 0
    for it in spec.items:
        if it.kind == "bands":
            top += max(b.points for b in it.bands)
        elif it.kind == "organomegaly":
            top += max(it.organ_points.values())
        elif it.kind == "lineages":
            top += max(it.points_by_count.values())
        else:
            top += it.points
    assert top == 337


def test_mh_score_maximum_is_123():
    # spec §3: 37 + 37 + 15 + 12 + 11 + 11 = 123
    assert sum(it.points for it in criteria().instruments["mh_score"].items) == 123


# ---- unit conversions and the fever convention (spec §0 and Decisions)

EXPECTED_UNITS = [
    # (analyte, unit, factor to the default unit, offset)
    ("ferritin", "ng/mL", Decimal(1), 0),
    ("ferritin", "µg/L", Decimal(1), 0),  # ng/mL = ug/L 1:1
    ("platelets", "10^9/L", Decimal(1), 0),
    ("platelets", "10^3/µL", Decimal(1), 0),
    ("platelets", "/µL", Decimal(1) / Decimal(1000), 0),  # x10^9/L = /uL / 1000
    ("platelets", "/mm3", Decimal(1) / Decimal(1000), 0),
    ("wbc", "/µL", Decimal(1) / Decimal(1000), 0),
    ("neutrophils", "/µL", Decimal(1) / Decimal(1000), 0),
    ("hemoglobin", "g/dL", Decimal(1), 0),
    ("hemoglobin", "g/L", Decimal(1) / Decimal(10), 0),  # g/L = g/dL x 10
    ("hemoglobin", "mmol/L", Decimal(1) / Decimal("0.6206"), 0),  # mmol/L = g/dL x 0.6206
    ("ast", "µkat/L", Decimal(60), 0),  # 1 ukat/L = 60 U/L (spec's 0.01667 is 1/60 rounded)
    ("ldh", "µkat/L", Decimal(60), 0),
    ("triglycerides", "mg/dL", Decimal(1), 0),
    ("triglycerides", "mmol/L", Decimal("88.57"), 0),  # mg/dL = mmol/L x 88.57
    ("fibrinogen", "mg/dL", Decimal(1), 0),
    ("fibrinogen", "g/L", Decimal(100), 0),  # mg/dL = g/L x 100
    ("fibrinogen", "µmol/L", Decimal(100) / Decimal("2.94"), 0),  # umol/L ~ g/L x 2.94
    ("esr", "mm/h", Decimal(1), 0),
    ("scd25", "U/mL", Decimal(1), 0),
    ("temperature", "degC", Decimal(1), 0),
    ("temperature", "degF", Decimal(5) / Decimal(9), -32),  # degC = (degF - 32) x 5/9
]


@pytest.mark.parametrize(
    ("analyte", "unit", "factor", "offset"), [pytest.param(*u, id=f"{u[0]}-{u[1]}") for u in EXPECTED_UNITS]
)
def test_unit_conversion_factor(analyte, unit, factor, offset):
    spec = criteria().analytes.analytes[analyte].unit(unit)
    assert parse_factor(spec.factor) == factor
    assert spec.offset == offset


@pytest.mark.parametrize(
    ("analyte", "default_unit"),
    [
        ("ferritin", "ng/mL"),
        ("platelets", "10^9/L"),
        ("wbc", "10^9/L"),
        ("neutrophils", "10^9/L"),
        ("hemoglobin", "g/dL"),
        ("ast", "U/L"),
        ("alt", "U/L"),
        ("ldh", "U/L"),
        ("triglycerides", "mg/dL"),
        ("fibrinogen", "mg/dL"),
        ("esr", "mm/h"),
        ("crp", "mg/L"),
        ("d_dimer", "mg/L FEU"),
        ("scd25", "U/mL"),
        ("temperature", "degC"),
    ],
)
def test_default_units_of_the_contract(analyte, default_unit):
    assert criteria().analytes.analytes[analyte].default_unit == default_unit


def test_fever_convention_is_38_0_celsius():
    conv = criteria().analytes.fever_convention
    assert (conv.threshold, conv.unit) == (38.0, "degC")


# ----------------------------------------------------------------------------- (b) citation keys


def _keys_in(node, found: list[str]) -> None:
    """Citation keys under `source`, `references`, `citation` and `reference` anywhere in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("source", "citation", "reference") and isinstance(value, str):
                found.append(value)
            elif key == "references" and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
            _keys_in(value, found)
    elif isinstance(node, list):
        for value in node:
            _keys_in(value, found)


REFERENCE_KEYS = set(yaml.safe_load((ROOT / "references" / "references.yaml").read_text(encoding="utf-8")))
DATA_FILES = [*sorted((ROOT / "criteria").glob("*.yaml")), ROOT / "references" / "education.yaml"]


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_every_citation_key_in_a_data_file_resolves(path):
    found: list[str] = []
    _keys_in(yaml.safe_load(path.read_text(encoding="utf-8")), found)
    if path.name != "analytes.yaml":
        assert found, f"{path.name} cites nothing"
    unknown = sorted(set(found) - REFERENCE_KEYS)
    assert unknown == [], f"{path.name}: unknown citation keys {unknown}"


def test_every_citation_key_in_the_code_resolves():
    pattern = re.compile(r"""(?:short_citation|full_citation|reference|link)\(\s*["']([A-Za-z0-9_]+)["']\s*\)""")
    literal_lists = re.compile(r"""refs\s*(?:\+=|\.append\()\s*\[?([^\]\n)]*)""")
    found: set[str] = set()
    for path in (ROOT / "mas_screen").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(pattern.findall(text))
        for chunk in literal_lists.findall(text):
            found.update(re.findall(r"""["']([A-Za-z0-9_]+)["']""", chunk))
    assert found, "no citation keys found in the code: the pattern is out of date"
    assert sorted(found - REFERENCE_KEYS) == []


@pytest.mark.parametrize(
    ("labs", "context"),
    [
        pytest.param({"ferritin": 1000}, {}, id="minimal"),
        pytest.param(
            {"ferritin": 9000, "platelets": 50, "hemoglobin": 7, "neutrophils": 0.5, "triglycerides": 400},
            {
                "febrile": True,
                "splenomegaly": True,
                "underlying_disease": "aosd",
                "biologic_therapy": "il6",
                "age_years": 30,
            },
            id="aosd-il6",
        ),
        pytest.param(
            {"ferritin": 9000, "platelets": 50, "hemoglobin": 7, "neutrophils": 0.5, "triglycerides": 400},
            {
                "febrile": True,
                "splenomegaly": True,
                "underlying_disease": "sjia",
                "biologic_therapy": "il1",
                "age_years": 6,
            },
            id="sjia-il1-hlh-met",
        ),
        pytest.param(
            {"temperature": 36.5, "ferritin": 2150, "esr": 100},
            {"febrile": True, "underlying_disease": "sle"},
            id="sle",
        ),
    ],
)
def test_every_citation_in_an_assessment_resolves(labs, context):
    r = run(labs, **context)
    out = set(r["references"])
    assert out <= REFERENCE_KEYS
    for c in r["criteria"].values():
        assert set(c["references"]) <= out, c["id"]
        for it in c["items"]:
            assert it["source"] in REFERENCE_KEYS


def test_loaded_references_equal_the_file():
    assert set(criteria().references) == REFERENCE_KEYS


# ----------------------------------------------------------------------------- (c) load failures


def test_untouched_copy_loads(data_dirs):
    data = load_criteria(*data_dirs)
    assert set(data.instruments) == set(criteria().instruments)


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _item(data: dict, item_id: str) -> dict:
    return next(it for it in data["items"] if it["id"] == item_id)


def _set(item_id: str, key: str, value):
    def change(data):
        _item(data, item_id)[key] = value

    return change


def _delete(item_id: str, key: str):
    def change(data):
        del _item(data, item_id)[key]

    return change


def _component(item_id: str, sub_id: str, key: str, value):
    def change(data):
        sub = next(s for s in _item(data, item_id)["items"] if s["id"] == sub_id)
        sub[key] = value

    return change


BROKEN = [
    # (directory, file, change, substrings the message must contain)
    pytest.param(
        "criteria",
        "mas2016.yaml",
        _delete("ferritin", "threshold"),
        ["mas2016.yaml", "items.1", "threshold"],
        id="missing-threshold",
    ),
    pytest.param(
        "criteria", "hscore.yaml", _delete("ast", "source"), ["hscore.yaml", "items.7.source"], id="missing-item-source"
    ),
    pytest.param(
        "criteria", "ohi.yaml", lambda d: d.pop("name"), ["ohi.yaml", "field name"], id="missing-instrument-name"
    ),
    pytest.param(
        "criteria",
        "mas2016.yaml",
        _set("ferritin", "threshold", "> 684"),
        ["mas2016.yaml", "items.1.threshold"],
        id="threshold-text",
    ),
    pytest.param(
        "criteria",
        "mas2016.yaml",
        _set("ferritin", "threshold", "684"),
        ["mas2016.yaml", "items.1.threshold"],
        id="threshold-numeric-string",
    ),
    pytest.param(
        "criteria",
        "hlh2004.yaml",
        _set("ferritin", "threshold", True),
        ["hlh2004.yaml", "items.6.threshold"],
        id="threshold-boolean",
    ),
    pytest.param(
        "criteria",
        "hscore.yaml",
        _component("cytopenias", "hemoglobin", "threshold", "9.2"),
        ["hscore.yaml", "items.3.items.0.threshold"],
        id="component-threshold-string",
    ),
    pytest.param(
        "criteria",
        "mh_score.yaml",
        _set("neutrophils", "points", "37"),
        ["mh_score.yaml", "items.1.points"],
        id="points-string",
    ),
    pytest.param(
        "criteria",
        "mas2016.yaml",
        _set("ast", "comparator", "=>"),
        ["mas2016.yaml", "items.3.comparator"],
        id="unknown-comparator",
    ),
    pytest.param(
        "criteria",
        "parodi2009.yaml",
        _set("ldh", "comparator", "gt"),
        ["parodi2009.yaml", "items.7.comparator"],
        id="comparator-word",
    ),
    pytest.param(
        "criteria",
        "mas2016.yaml",
        _set("ferritin", "analyte", "ferritine"),
        ["mas2016.yaml", "items.1(ferritin).analyte", "ferritine"],
        id="unknown-analyte",
    ),
    pytest.param(
        "criteria",
        "ohi.yaml",
        _set("ferritin", "unit", "mg/L"),
        ["ohi.yaml", "items.1(ferritin).unit", "mg/L"],
        id="unit-not-accepted",
    ),
    pytest.param(
        "criteria",
        "hlh2004.yaml",
        _component("triglycerides_fibrinogen", "triglycerides", "unit", "mmol"),
        ["hlh2004.yaml", "items.3(triglycerides_fibrinogen).items.0(triglycerides).unit"],
        id="component-unit-not-accepted",
    ),
    pytest.param(
        "criteria",
        "mas2016.yaml",
        _set("platelets", "source", "ravelli2061"),
        ["mas2016.yaml", "items.2(platelets).source", "ravelli2061"],
        id="unknown-item-citation",
    ),
    pytest.param(
        "criteria",
        "hscore.yaml",
        lambda d: d["caveats"][0]["references"].append("nobody1999"),
        ["hscore.yaml", "caveats.0.references", "nobody1999"],
        id="unknown-caveat-citation",
    ),
    pytest.param(
        "criteria",
        "ms_score.yaml",
        lambda d: d["additional_cutoffs"][0].update(source="yao2012"),
        ["ms_score.yaml", "additional_cutoffs.0.source", "yao2012"],
        id="unknown-cutoff-citation",
    ),
    pytest.param(
        "criteria",
        "hscore.yaml",
        lambda d: _item(d, "temperature")["bands"][1].update(gte=38.4),
        ["hscore.yaml", "items.1.bands.1.gte"],
        id="band-unknown-key",
    ),
    pytest.param(
        "criteria", "ms_score.yaml", lambda d: d.update(id="ms-score"), ["ms_score.yaml", "field id"], id="id-mismatch"
    ),
    pytest.param(
        "criteria",
        "ms_score.yaml",
        lambda d: d["cutoff"].update(value="minus 2.1"),
        ["ms_score.yaml", "cutoff.value"],
        id="cutoff-value-text",
    ),
    pytest.param(
        "criteria",
        "analytes.yaml",
        lambda d: d["analytes"]["ferritin"].pop("plausible"),
        ["analytes.yaml", "analytes.ferritin.plausible"],
        id="analyte-missing-plausible",
    ),
    pytest.param(
        "criteria",
        "analytes.yaml",
        lambda d: d["analytes"]["triglycerides"]["units"][1].update(factor="88,57"),
        ["analytes.yaml", "analytes.triglycerides.units.1.factor"],
        id="unit-factor-malformed",
    ),
    pytest.param(
        "criteria",
        "policy.yaml",
        lambda d: d["panels"][0]["instruments"].append("mas2061"),
        ["policy.yaml", "panels.0.instruments.3", "mas2061"],
        id="policy-panel-unknown-instrument",
    ),
    pytest.param(
        "criteria",
        "policy.yaml",
        lambda d: d["score_gauges"].append("mas2016"),
        ["policy.yaml", "score_gauges.3", "not a score with a cut-off"],
        id="policy-gauge-not-a-score",
    ),
    pytest.param(
        "criteria",
        "policy.yaml",
        lambda d: d["phlh"].update(instrument="mh2061"),
        ["policy.yaml", "phlh.instrument", "mh2061"],
        id="policy-phlh-unknown-instrument",
    ),
    pytest.param(
        "references",
        "references.yaml",
        lambda d: d["fardet2014"].pop("year"),
        ["references.yaml", "fardet2014", "year"],
        id="reference-missing-year",
    ),
    pytest.param(
        "references",
        "education.yaml",
        lambda d: d["topics"][0]["points"][0].update(citation="sen2061"),
        ["education.yaml", "sen2061"],
        id="education-unknown-citation",
    ),
]


@pytest.mark.parametrize(("folder", "name", "change", "expected"), BROKEN)
def test_broken_file_raises_naming_file_and_field(data_dirs, folder, name, change, expected):
    crit_dir, refs_dir = data_dirs
    _edit((crit_dir if folder == "criteria" else refs_dir) / name, change)
    with pytest.raises(CriteriaDataError) as err:
        load_criteria(crit_dir, refs_dir)
    message = str(err.value)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize(
    ("folder", "name", "text"),
    [
        pytest.param("criteria", "hscore.yaml", "id: hscore\nitems: [unclosed\n", id="hscore-unclosed-list"),
        pytest.param(
            "criteria", "mas2016.yaml", "id: mas2016\n  name: : bad\n\tindent: tab\n", id="mas2016-bad-indent"
        ),
        pytest.param("references", "references.yaml", "ravelli2016: {authors: [\n", id="references-unclosed"),
        pytest.param("criteria", "analytes.yaml", 'analytes: "unterminated\n', id="analytes-unterminated-string"),
    ],
)
def test_invalid_yaml_raises_naming_file(data_dirs, folder, name, text):
    crit_dir, refs_dir = data_dirs
    ((crit_dir if folder == "criteria" else refs_dir) / name).write_text(text, encoding="utf-8")
    with pytest.raises(CriteriaDataError) as err:
        load_criteria(crit_dir, refs_dir)
    message = str(err.value)
    assert name in message
    assert "not valid YAML" in message
    assert "line" in message  # the parser's position, so the author can find it


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        pytest.param("criteria", "ohi.yaml", id="instrument-file"),
        pytest.param("criteria", "analytes.yaml", id="analytes"),
        pytest.param("references", "references.yaml", id="references"),
        pytest.param("references", "education.yaml", id="education"),
    ],
)
def test_missing_file_raises_naming_file(data_dirs, folder, name):
    crit_dir, refs_dir = data_dirs
    ((crit_dir if folder == "criteria" else refs_dir) / name).unlink()
    with pytest.raises(CriteriaDataError) as err:
        load_criteria(crit_dir, refs_dir)
    assert name in str(err.value)
    assert "not found" in str(err.value)


def test_empty_references_file_raises(data_dirs):
    crit_dir, refs_dir = data_dirs
    (refs_dir / "references.yaml").write_text("", encoding="utf-8")
    with pytest.raises(CriteriaDataError) as err:
        load_criteria(crit_dir, refs_dir)
    assert "references.yaml" in str(err.value)
