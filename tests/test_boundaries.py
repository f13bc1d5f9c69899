"""Every threshold of every instrument: a value below, exactly at and above it.

The numbers are the published ones from criteria-spec.md, typed here by hand (never read from
criteria/*.yaml), so a typo in a data file fails these tests. The first table enters each value in
the criterion's published unit; the second enters the same boundary in another accepted unit, with
the conversion worked out by hand in the comment, and checks that the result does not change.
"""

from __future__ import annotations

import pytest
from conftest import crit, item, run
from panels import hscore_patient

# Context that decides nothing by itself but keeps age-dependent rules out of the way.
CHILD = {"age_years": 5}
ADULT = {"age_years": 40}
INFANT_27_DAYS = {"age_years": 0.0739}  # 0.0739 x 365.25 = 26.99 days < 28 days (4 weeks)
INFANT_28_DAYS = {"age_years": 0.0767}  # 0.0767 x 365.25 = 28.01 days: not below 4 weeks


def find(result: dict, iid: str, path: tuple[str, ...]) -> dict:
    """The item (or the lineage/any-of component) at `path`."""
    found = item(result, iid, path[0])
    for sub_id in path[1:]:
        found = next(sub for sub in found["components"] if sub["id"] == sub_id)
    return found


def case(iid, path, labs, result, points=None, ctx=None, *, id):
    if isinstance(path, str):
        path = (path,)
    return pytest.param(iid, path, labs, ctx or {}, result, points, id=f"{iid}-{id}")


def q(value, unit):
    return {"value": value, "unit": unit}


# ------------------------------------------------------------------ table 1: published units

# fmt: off
PUBLISHED = [
    # ---- 2016 EULAR/ACR/PRINTO (Ravelli 2016); unscored items -> points None
    # fever entry without `febrile`: temperature >= 38.0 degC (project convention)
    case("mas2016", "fever", {"temperature": 37.9}, "not_met", id="fever-37.9"),
    case("mas2016", "fever", {"temperature": 38.0}, "met", id="fever-38.0"),
    case("mas2016", "fever", {"temperature": 38.1}, "met", id="fever-38.1"),
    # ferritin > 684 ng/mL
    case("mas2016", "ferritin", {"ferritin": 683}, "not_met", id="ferritin-683"),
    case("mas2016", "ferritin", {"ferritin": 684}, "not_met", id="ferritin-684"),
    case("mas2016", "ferritin", {"ferritin": 685}, "met", id="ferritin-685"),
    # platelets <= 181 x10^9/L
    case("mas2016", "platelets", {"platelets": 180}, "met", id="platelets-180"),
    case("mas2016", "platelets", {"platelets": 181}, "met", id="platelets-181"),
    case("mas2016", "platelets", {"platelets": 182}, "not_met", id="platelets-182"),
    # AST > 48 U/L
    case("mas2016", "ast", {"ast": 47}, "not_met", id="ast-47"),
    case("mas2016", "ast", {"ast": 48}, "not_met", id="ast-48"),
    case("mas2016", "ast", {"ast": 49}, "met", id="ast-49"),
    # triglycerides > 156 mg/dL
    case("mas2016", "triglycerides", {"triglycerides": 155}, "not_met", id="tg-155"),
    case("mas2016", "triglycerides", {"triglycerides": 156}, "not_met", id="tg-156"),
    case("mas2016", "triglycerides", {"triglycerides": 157}, "met", id="tg-157"),
    # fibrinogen <= 360 mg/dL
    case("mas2016", "fibrinogen", {"fibrinogen": 359}, "met", id="fibrinogen-359"),
    case("mas2016", "fibrinogen", {"fibrinogen": 360}, "met", id="fibrinogen-360"),
    case("mas2016", "fibrinogen", {"fibrinogen": 361}, "not_met", id="fibrinogen-361"),
    # ---- MH score (Minoia 2017): points 37/37/15/12/11/11, 0 otherwise
    case("mh_score", "age_at_onset", {}, "met", 37, {"age_at_onset_years": 1.5}, id="onset-1.5"),
    case("mh_score", "age_at_onset", {}, "met", 37, {"age_at_onset_years": 1.6}, id="onset-1.6"),
    case("mh_score", "age_at_onset", {}, "not_met", 0, {"age_at_onset_years": 1.7}, id="onset-1.7"),
    # no onset entered: a current age <= 1.6 decides it (onset cannot be later); above, it is unknown
    case("mh_score", "age_at_onset", {}, "met", 37, {"age_years": 1.5}, id="current-age-1.5"),
    case("mh_score", "age_at_onset", {}, "met", 37, {"age_years": 1.6}, id="current-age-1.6"),
    case("mh_score", "age_at_onset", {}, "missing", None, {"age_years": 1.7}, id="current-age-1.7"),
    # neutrophils <= 1.4 x10^9/L
    case("mh_score", "neutrophils", {"neutrophils": 1.3}, "met", 37, id="neutrophils-1.3"),
    case("mh_score", "neutrophils", {"neutrophils": 1.4}, "met", 37, id="neutrophils-1.4"),
    case("mh_score", "neutrophils", {"neutrophils": 1.5}, "not_met", 0, id="neutrophils-1.5"),
    # fibrinogen <= 131 mg/dL
    case("mh_score", "fibrinogen", {"fibrinogen": 130}, "met", 15, id="fibrinogen-130"),
    case("mh_score", "fibrinogen", {"fibrinogen": 131}, "met", 15, id="fibrinogen-131"),
    case("mh_score", "fibrinogen", {"fibrinogen": 132}, "not_met", 0, id="fibrinogen-132"),
    # splenomegaly present 12
    case("mh_score", "splenomegaly", {}, "met", 12, {"splenomegaly": True}, id="splenomegaly-yes"),
    case("mh_score", "splenomegaly", {}, "not_met", 0, {"splenomegaly": False}, id="splenomegaly-no"),
    # platelets <= 78 x10^9/L
    case("mh_score", "platelets", {"platelets": 77}, "met", 11, id="platelets-77"),
    case("mh_score", "platelets", {"platelets": 78}, "met", 11, id="platelets-78"),
    case("mh_score", "platelets", {"platelets": 79}, "not_met", 0, id="platelets-79"),
    # haemoglobin <= 8.3 g/dL
    case("mh_score", "hemoglobin", {"hemoglobin": 8.2}, "met", 11, id="hb-8.2"),
    case("mh_score", "hemoglobin", {"hemoglobin": 8.3}, "met", 11, id="hb-8.3"),
    case("mh_score", "hemoglobin", {"hemoglobin": 8.4}, "not_met", 0, id="hb-8.4"),
    # ---- HScore (Fardet 2014)
    # immunosuppression yes 18; marrow haemophagocytosis yes 35
    case("hscore", "immunosuppression", {}, "met", 18, {"known_immunosuppression": True}, id="immuno-yes"),
    case("hscore", "immunosuppression", {}, "not_met", 0, {"known_immunosuppression": False}, id="immuno-no"),
    case("hscore", "hemophagocytosis_marrow", {}, "met", 35, {"hemophagocytosis_marrow": True}, id="marrow-yes"),
    case("hscore", "hemophagocytosis_marrow", {}, "not_met", 0, {"hemophagocytosis_marrow": False}, id="marrow-no"),
    # temperature degC: < 38.4 -> 0; 38.4-39.4 inclusive -> 33; > 39.4 -> 49
    case("hscore", "temperature", {"temperature": 38.3}, "not_met", 0, id="temp-38.3"),
    case("hscore", "temperature", {"temperature": 38.39}, "not_met", 0, id="temp-38.39"),
    case("hscore", "temperature", {"temperature": 38.4}, "met", 33, id="temp-38.4"),
    case("hscore", "temperature", {"temperature": 38.5}, "met", 33, id="temp-38.5"),
    case("hscore", "temperature", {"temperature": 39.3}, "met", 33, id="temp-39.3"),
    case("hscore", "temperature", {"temperature": 39.4}, "met", 33, id="temp-39.4"),
    case("hscore", "temperature", {"temperature": 39.41}, "met", 49, id="temp-39.41"),
    case("hscore", "temperature", {"temperature": 39.5}, "met", 49, id="temp-39.5"),
    # organomegaly: none 0, hepatomegaly or splenomegaly 23, both 38
    case("hscore", "organomegaly", {}, "not_met", 0, {"hepatomegaly": False, "splenomegaly": False}, id="organs-none"),
    case("hscore", "organomegaly", {}, "met", 23, {"hepatomegaly": True, "splenomegaly": False}, id="organs-liver"),
    case("hscore", "organomegaly", {}, "met", 23, {"hepatomegaly": False, "splenomegaly": True}, id="organs-spleen"),
    case("hscore", "organomegaly", {}, "met", 38, {"hepatomegaly": True, "splenomegaly": True}, id="organs-both"),
    # cytopenia definitions: Hb <= 9.2 g/dL, WBC <= 5.0 x10^9/L, platelets <= 110 x10^9/L
    case("hscore", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.1}, "met", id="hb-9.1"),
    case("hscore", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.2}, "met", id="hb-9.2"),
    case("hscore", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.3}, "not_met", id="hb-9.3"),
    case("hscore", ("cytopenias", "wbc"), {"wbc": 4.9}, "met", id="wbc-4.9"),
    case("hscore", ("cytopenias", "wbc"), {"wbc": 5.0}, "met", id="wbc-5.0"),
    case("hscore", ("cytopenias", "wbc"), {"wbc": 5.1}, "not_met", id="wbc-5.1"),
    case("hscore", ("cytopenias", "platelets"), {"platelets": 109}, "met", id="platelets-109"),
    case("hscore", ("cytopenias", "platelets"), {"platelets": 110}, "met", id="platelets-110"),
    case("hscore", ("cytopenias", "platelets"), {"platelets": 111}, "not_met", id="platelets-111"),
    # number of cytopenic lineages: 0 or 1 -> 0, 2 -> 24, 3 -> 34
    case("hscore", "cytopenias", {"hemoglobin": 12, "wbc": 8, "platelets": 300}, "not_met", 0, id="lineages-0"),
    case("hscore", "cytopenias", {"hemoglobin": 8, "wbc": 8, "platelets": 300}, "not_met", 0, id="lineages-1"),
    case("hscore", "cytopenias", {"hemoglobin": 8, "wbc": 3, "platelets": 300}, "met", 24, id="lineages-2"),
    case("hscore", "cytopenias", {"hemoglobin": 8, "wbc": 3, "platelets": 50}, "met", 34, id="lineages-3"),
    # ferritin ng/mL: < 2000 -> 0; 2000-6000 inclusive -> 35; > 6000 -> 50
    case("hscore", "ferritin", {"ferritin": 1999}, "not_met", 0, id="ferritin-1999"),
    case("hscore", "ferritin", {"ferritin": 2000}, "met", 35, id="ferritin-2000"),
    case("hscore", "ferritin", {"ferritin": 2001}, "met", 35, id="ferritin-2001"),
    case("hscore", "ferritin", {"ferritin": 5999}, "met", 35, id="ferritin-5999"),
    case("hscore", "ferritin", {"ferritin": 6000}, "met", 35, id="ferritin-6000"),
    case("hscore", "ferritin", {"ferritin": 6001}, "met", 50, id="ferritin-6001"),
    # triglycerides mmol/L: < 1.5 -> 0; 1.5-4.0 inclusive -> 44; > 4.0 -> 64
    case("hscore", "triglycerides", {"triglycerides": q(1.49, "mmol/L")}, "not_met", 0, id="tg-1.49"),
    case("hscore", "triglycerides", {"triglycerides": q(1.5, "mmol/L")}, "met", 44, id="tg-1.5"),
    case("hscore", "triglycerides", {"triglycerides": q(1.51, "mmol/L")}, "met", 44, id="tg-1.51"),
    case("hscore", "triglycerides", {"triglycerides": q(3.99, "mmol/L")}, "met", 44, id="tg-3.99"),
    case("hscore", "triglycerides", {"triglycerides": q(4.0, "mmol/L")}, "met", 44, id="tg-4.0"),
    case("hscore", "triglycerides", {"triglycerides": q(4.01, "mmol/L")}, "met", 64, id="tg-4.01"),
    # fibrinogen g/L: > 2.5 -> 0; <= 2.5 -> 30
    case("hscore", "fibrinogen", {"fibrinogen": q(2.4, "g/L")}, "met", 30, id="fibrinogen-2.4"),
    case("hscore", "fibrinogen", {"fibrinogen": q(2.5, "g/L")}, "met", 30, id="fibrinogen-2.5"),
    case("hscore", "fibrinogen", {"fibrinogen": q(2.6, "g/L")}, "not_met", 0, id="fibrinogen-2.6"),
    # AST U/L: < 30 -> 0; >= 30 -> 19
    case("hscore", "ast", {"ast": 29}, "not_met", 0, id="ast-29"),
    case("hscore", "ast", {"ast": 30}, "met", 19, id="ast-30"),
    case("hscore", "ast", {"ast": 31}, "met", 19, id="ast-31"),
    # ---- HLH-2004 (Henter 2007); unscored
    # fever without `febrile`: temperature >= 38.5 degC (HLH-94 wording, adaptation)
    case("hlh2004", "fever", {"temperature": 38.4}, "not_met", id="fever-38.4"),
    case("hlh2004", "fever", {"temperature": 38.5}, "met", id="fever-38.5"),
    case("hlh2004", "fever", {"temperature": 38.6}, "met", id="fever-38.6"),
    # haemoglobin < 9.0 g/dL (age 5 years)
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 8.9}, "met", None, CHILD, id="hb-8.9"),
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.0}, "not_met", None, CHILD, id="hb-9.0"),
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.1}, "not_met", None, CHILD, id="hb-9.1"),
    # infants < 4 weeks: haemoglobin < 10.0 g/dL
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.9}, "met", None, INFANT_27_DAYS, id="infant-hb-9.9"),
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 10.0}, "not_met", None, INFANT_27_DAYS, id="infant-hb-10"),
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 10.1}, "not_met", None, INFANT_27_DAYS, id="infant-hb-10.1"),
    # the infant rule stops at 4 weeks: 28.01 days, Hb 9.5 is not < 9.0
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.5}, "met", None, INFANT_27_DAYS, id="27-days-hb-9.5"),
    case("hlh2004", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.5}, "not_met", None, INFANT_28_DAYS, id="28-days-hb-9.5"),
    # platelets < 100 x10^9/L
    case("hlh2004", ("cytopenias", "platelets"), {"platelets": 99}, "met", id="platelets-99"),
    case("hlh2004", ("cytopenias", "platelets"), {"platelets": 100}, "not_met", id="platelets-100"),
    case("hlh2004", ("cytopenias", "platelets"), {"platelets": 101}, "not_met", id="platelets-101"),
    # neutrophils < 1.0 x10^9/L
    case("hlh2004", ("cytopenias", "neutrophils"), {"neutrophils": 0.9}, "met", id="anc-0.9"),
    case("hlh2004", ("cytopenias", "neutrophils"), {"neutrophils": 1.0}, "not_met", id="anc-1.0"),
    case("hlh2004", ("cytopenias", "neutrophils"), {"neutrophils": 1.1}, "not_met", id="anc-1.1"),
    # triglycerides >= 3.0 mmol/L
    case("hlh2004", ("triglycerides_fibrinogen", "triglycerides"), {"triglycerides": q(2.9, "mmol/L")}, "not_met", id="tg-2.9"),
    case("hlh2004", ("triglycerides_fibrinogen", "triglycerides"), {"triglycerides": q(3.0, "mmol/L")}, "met", id="tg-3.0"),
    case("hlh2004", ("triglycerides_fibrinogen", "triglycerides"), {"triglycerides": q(3.1, "mmol/L")}, "met", id="tg-3.1"),
    # fibrinogen <= 1.5 g/L
    case("hlh2004", ("triglycerides_fibrinogen", "fibrinogen"), {"fibrinogen": q(1.4, "g/L")}, "met", id="fib-1.4"),
    case("hlh2004", ("triglycerides_fibrinogen", "fibrinogen"), {"fibrinogen": q(1.5, "g/L")}, "met", id="fib-1.5"),
    case("hlh2004", ("triglycerides_fibrinogen", "fibrinogen"), {"fibrinogen": q(1.6, "g/L")}, "not_met", id="fib-1.6"),
    # ferritin >= 500 ng/mL
    case("hlh2004", "ferritin", {"ferritin": 499}, "not_met", id="ferritin-499"),
    case("hlh2004", "ferritin", {"ferritin": 500}, "met", id="ferritin-500"),
    case("hlh2004", "ferritin", {"ferritin": 501}, "met", id="ferritin-501"),
    # sCD25 >= 2400 U/mL
    case("hlh2004", "scd25", {"scd25": 2399}, "not_met", id="scd25-2399"),
    case("hlh2004", "scd25", {"scd25": 2400}, "met", id="scd25-2400"),
    case("hlh2004", "scd25", {"scd25": 2401}, "met", id="scd25-2401"),
    # yes/no criteria: splenomegaly; haemophagocytosis at either site; low NK activity
    case("hlh2004", "splenomegaly", {}, "met", None, {"splenomegaly": True}, id="spleen-yes"),
    case("hlh2004", "splenomegaly", {}, "not_met", None, {"splenomegaly": False}, id="spleen-no"),
    case("hlh2004", "hemophagocytosis", {}, "met", None, {"hemophagocytosis_marrow": True}, id="hpc-marrow"),
    case("hlh2004", "hemophagocytosis", {}, "met", None, {"hemophagocytosis_other_site": True}, id="hpc-other-site"),
    case("hlh2004", "hemophagocytosis", {}, "not_met", None, {"hemophagocytosis_marrow": False, "hemophagocytosis_other_site": False}, id="hpc-both-negative"),
    case("hlh2004", "hemophagocytosis", {}, "missing", None, {"hemophagocytosis_marrow": False}, id="hpc-one-negative"),
    case("hlh2004", "nk_activity", {}, "met", None, {"nk_activity_low": True}, id="nk-low"),
    case("hlh2004", "nk_activity", {}, "not_met", None, {"nk_activity_low": False}, id="nk-normal"),
    # the `febrile` answer, when given, decides fever whatever the temperature
    case("hlh2004", "fever", {"temperature": 37.0}, "met", None, {"febrile": True}, id="febrile-yes-37.0"),
    case("hlh2004", "fever", {"temperature": 39.0}, "not_met", None, {"febrile": False}, id="febrile-no-39.0"),
    # ---- Ferritin:ESR (Eloseily 2019): ratio >= 21.5 (project decision on the inequality)
    case("ferritin_esr", "ratio", {"ferritin": 2149, "esr": 100}, "not_met", id="ratio-21.49"),
    case("ferritin_esr", "ratio", {"ferritin": 2150, "esr": 100}, "met", id="ratio-21.5"),
    case("ferritin_esr", "ratio", {"ferritin": 2151, "esr": 100}, "met", id="ratio-21.51"),
    # ---- Parodi 2009 (jSLE)
    # fever: temperature > 38 degC (its own number)
    case("parodi2009", "fever", {"temperature": 37.9}, "not_met", id="fever-37.9"),
    case("parodi2009", "fever", {"temperature": 38.0}, "not_met", id="fever-38.0"),
    case("parodi2009", "fever", {"temperature": 38.1}, "met", id="fever-38.1"),
    # organs >= 3 cm below the costal arch
    *[
        case("parodi2009", organ, {}, result, None, {organ: True, f"{organ}_cm": cm}, id=f"{organ}-{cm}cm")
        for organ in ("hepatomegaly", "splenomegaly")
        for cm, result in ((2.9, "not_met"), (3, "met"), (3.1, "met"))
    ],
    # yes/no clinical criteria
    case("parodi2009", "hemorrhagic_manifestations", {}, "met", None, {"hemorrhagic_manifestations": True}, id="bleed-yes"),
    case("parodi2009", "hemorrhagic_manifestations", {}, "not_met", None, {"hemorrhagic_manifestations": False}, id="bleed-no"),
    case("parodi2009", "cns_involvement", {}, "met", None, {"cns_involvement": True}, id="cns-yes"),
    case("parodi2009", "cns_involvement", {}, "not_met", None, {"cns_involvement": False}, id="cns-no"),
    # cytopenia lineages: WBC <= 4.0, Hb <= 9.0 g/dL, platelets <= 150
    case("parodi2009", ("cytopenias", "wbc"), {"wbc": 3.9}, "met", id="wbc-3.9"),
    case("parodi2009", ("cytopenias", "wbc"), {"wbc": 4.0}, "met", id="wbc-4.0"),
    case("parodi2009", ("cytopenias", "wbc"), {"wbc": 4.1}, "not_met", id="wbc-4.1"),
    case("parodi2009", ("cytopenias", "hemoglobin"), {"hemoglobin": 8.9}, "met", id="hb-8.9"),
    case("parodi2009", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.0}, "met", id="hb-9.0"),
    case("parodi2009", ("cytopenias", "hemoglobin"), {"hemoglobin": 9.1}, "not_met", id="hb-9.1"),
    case("parodi2009", ("cytopenias", "platelets"), {"platelets": 149}, "met", id="platelets-149"),
    case("parodi2009", ("cytopenias", "platelets"), {"platelets": 150}, "met", id="platelets-150"),
    case("parodi2009", ("cytopenias", "platelets"), {"platelets": 151}, "not_met", id="platelets-151"),
    # AST > 40 U/L
    case("parodi2009", "ast", {"ast": 39}, "not_met", id="ast-39"),
    case("parodi2009", "ast", {"ast": 40}, "not_met", id="ast-40"),
    case("parodi2009", "ast", {"ast": 41}, "met", id="ast-41"),
    # LDH > 567 U/L
    case("parodi2009", "ldh", {"ldh": 566}, "not_met", id="ldh-566"),
    case("parodi2009", "ldh", {"ldh": 567}, "not_met", id="ldh-567"),
    case("parodi2009", "ldh", {"ldh": 568}, "met", id="ldh-568"),
    # fibrinogen <= 1.5 g/L
    case("parodi2009", "fibrinogen", {"fibrinogen": q(1.4, "g/L")}, "met", id="fibrinogen-1.4"),
    case("parodi2009", "fibrinogen", {"fibrinogen": q(1.5, "g/L")}, "met", id="fibrinogen-1.5"),
    case("parodi2009", "fibrinogen", {"fibrinogen": q(1.6, "g/L")}, "not_met", id="fibrinogen-1.6"),
    # triglycerides > 178 mg/dL
    case("parodi2009", "triglycerides", {"triglycerides": 177}, "not_met", id="tg-177"),
    case("parodi2009", "triglycerides", {"triglycerides": 178}, "not_met", id="tg-178"),
    case("parodi2009", "triglycerides", {"triglycerides": 179}, "met", id="tg-179"),
    # ferritin > 500 ng/mL
    case("parodi2009", "ferritin", {"ferritin": 499}, "not_met", id="ferritin-499"),
    case("parodi2009", "ferritin", {"ferritin": 500}, "not_met", id="ferritin-500"),
    case("parodi2009", "ferritin", {"ferritin": 501}, "met", id="ferritin-501"),
    # ---- OHI (Zoref-Lorenz 2022): sCD25 > 3900 U/mL, ferritin > 1000 ng/mL (abstract's strict ">")
    case("ohi", "scd25", {"scd25": 3899}, "not_met", id="scd25-3899"),
    case("ohi", "scd25", {"scd25": 3900}, "not_met", id="scd25-3900"),
    case("ohi", "scd25", {"scd25": 3901}, "met", id="scd25-3901"),
    case("ohi", "ferritin", {"ferritin": 999}, "not_met", id="ferritin-999"),
    case("ohi", "ferritin", {"ferritin": 1000}, "not_met", id="ferritin-1000"),
    case("ohi", "ferritin", {"ferritin": 1001}, "met", id="ferritin-1001"),
]
# fmt: on


@pytest.mark.parametrize(("iid", "path", "labs", "ctx", "result", "points"), PUBLISHED)
def test_threshold_in_published_unit(iid, path, labs, ctx, result, points):
    found = find(run(labs, **ctx), iid, path)
    assert found["result"] == result
    assert found["points"] == points


# ------------------------------------------------------------------ table 2: other accepted units


def alt(iid, path, analyte, other, published, result, points=None, ctx=None, *, id):
    """`other` and `published` are (value, unit): the same quantity typed in two units."""
    if isinstance(path, str):
        path = (path,)
    return pytest.param(iid, path, analyte, other, published, ctx or {}, result, points, id=f"{iid}-{id}")


# fmt: off
OTHER_UNITS = [
    # ---- 2016 criteria
    # 100.4 degF = (100.4 - 32) x 5/9 = 38.0 degC -> meets >= 38.0; 100.2 degF = 37.888... -> not
    alt("mas2016", "fever", "temperature", (100.4, "degF"), (38.0, "degC"), "met", id="fever-100.4F"),
    alt("mas2016", "fever", "temperature", (100.2, "degF"), (37.8888888889, "degC"), "not_met", id="fever-100.2F"),
    # ferritin ug/L = ng/mL (1:1)
    alt("mas2016", "ferritin", "ferritin", (684, "µg/L"), (684, "ng/mL"), "not_met", id="ferritin-684ug/L"),
    alt("mas2016", "ferritin", "ferritin", (685, "ug/L"), (685, "ng/mL"), "met", id="ferritin-685ug/L"),
    # platelets: 181,000 /uL = 181 x10^9/L (/1000); 181 x10^3/uL = 181 x10^9/L
    alt("mas2016", "platelets", "platelets", (181000, "/µL"), (181, "10^9/L"), "met", id="platelets-181000/uL"),
    alt("mas2016", "platelets", "platelets", (182000, "/µL"), (182, "10^9/L"), "not_met", id="platelets-182000/uL"),
    alt("mas2016", "platelets", "platelets", (181, "10^3/µL"), (181, "10^9/L"), "met", id="platelets-181K/uL"),
    alt("mas2016", "platelets", "platelets", (181000, "/mm3"), (181, "10^9/L"), "met", id="platelets-181000/mm3"),
    # AST: ukat/L x 60 = U/L. 0.8 -> 48 (not > 48); 0.79 -> 47.4; 0.82 -> 49.2
    alt("mas2016", "ast", "ast", (0.79, "µkat/L"), (47.4, "U/L"), "not_met", id="ast-0.79ukat"),
    alt("mas2016", "ast", "ast", (0.8, "µkat/L"), (48, "U/L"), "not_met", id="ast-0.8ukat"),
    alt("mas2016", "ast", "ast", (0.82, "µkat/L"), (49.2, "U/L"), "met", id="ast-0.82ukat"),
    # TG mmol/L x 88.57 = mg/dL: 1.76 -> 155.8832; 1.7613 -> 155.998341; 1.7614 -> 156.007198; 1.762 -> 156.06034
    alt("mas2016", "triglycerides", "triglycerides", (1.76, "mmol/L"), (155.8832, "mg/dL"), "not_met", id="tg-1.76"),
    alt("mas2016", "triglycerides", "triglycerides", (1.7613, "mmol/L"), (155.998341, "mg/dL"), "not_met", id="tg-1.7613"),
    alt("mas2016", "triglycerides", "triglycerides", (1.7614, "mmol/L"), (156.007198, "mg/dL"), "met", id="tg-1.7614"),
    alt("mas2016", "triglycerides", "triglycerides", (1.762, "mmol/L"), (156.06034, "mg/dL"), "met", id="tg-1.762"),
    # fibrinogen: g/L x 100 = mg/dL; umol/L x 100/2.94 = mg/dL (10.58 -> 359.86; 10.59 -> 360.20)
    alt("mas2016", "fibrinogen", "fibrinogen", (3.59, "g/L"), (359, "mg/dL"), "met", id="fib-3.59g/L"),
    alt("mas2016", "fibrinogen", "fibrinogen", (3.6, "g/L"), (360, "mg/dL"), "met", id="fib-3.6g/L"),
    alt("mas2016", "fibrinogen", "fibrinogen", (3.61, "g/L"), (361, "mg/dL"), "not_met", id="fib-3.61g/L"),
    alt("mas2016", "fibrinogen", "fibrinogen", (10.58, "µmol/L"), (359.863945578, "mg/dL"), "met", id="fib-10.58umol"),
    alt("mas2016", "fibrinogen", "fibrinogen", (10.59, "µmol/L"), (360.204081633, "mg/dL"), "not_met", id="fib-10.59umol"),
    # ---- MH score
    # neutrophils /uL / 1000: 1400 -> 1.4 (37), 1500 -> 1.5 (0)
    alt("mh_score", "neutrophils", "neutrophils", (1400, "/µL"), (1.4, "10^9/L"), "met", 37, id="anc-1400/uL"),
    alt("mh_score", "neutrophils", "neutrophils", (1500, "/µL"), (1.5, "10^9/L"), "not_met", 0, id="anc-1500/uL"),
    # fibrinogen 1.31 g/L = 131 mg/dL (15); 1.32 g/L = 132 (0)
    alt("mh_score", "fibrinogen", "fibrinogen", (1.31, "g/L"), (131, "mg/dL"), "met", 15, id="fib-1.31g/L"),
    alt("mh_score", "fibrinogen", "fibrinogen", (1.32, "g/L"), (132, "mg/dL"), "not_met", 0, id="fib-1.32g/L"),
    # platelets 78,000 /uL = 78 (11); 79,000 = 79 (0)
    alt("mh_score", "platelets", "platelets", (78000, "/µL"), (78, "10^9/L"), "met", 11, id="platelets-78000/uL"),
    alt("mh_score", "platelets", "platelets", (79000, "/µL"), (79, "10^9/L"), "not_met", 0, id="platelets-79000/uL"),
    # haemoglobin g/L / 10: 83 -> 8.3 (11), 84 -> 8.4 (0); mmol/L / 0.6206: 5.15 -> 8.2984 (11), 5.16 -> 8.3145 (0)
    alt("mh_score", "hemoglobin", "hemoglobin", (83, "g/L"), (8.3, "g/dL"), "met", 11, id="hb-83g/L"),
    alt("mh_score", "hemoglobin", "hemoglobin", (84, "g/L"), (8.4, "g/dL"), "not_met", 0, id="hb-84g/L"),
    alt("mh_score", "hemoglobin", "hemoglobin", (5.15, "mmol/L"), (8.29842088302, "g/dL"), "met", 11, id="hb-5.15mmol"),
    alt("mh_score", "hemoglobin", "hemoglobin", (5.16, "mmol/L"), (8.31453432162, "g/dL"), "not_met", 0, id="hb-5.16mmol"),
    # ---- HScore
    # temperature: 101.1 degF = 38.3889 (0: the spec's rounded "38.4 = 101.1 F" is below 38.4);
    # 101.12 degF = 38.4 exactly (33); 102.92 degF = 39.4 exactly (33); 102.93 degF = 39.4056 (49)
    alt("hscore", "temperature", "temperature", (101.1, "degF"), (38.3888888889, "degC"), "not_met", 0, id="t-101.1F"),
    alt("hscore", "temperature", "temperature", (101.12, "degF"), (38.4, "degC"), "met", 33, id="t-101.12F"),
    alt("hscore", "temperature", "temperature", (102.92, "degF"), (39.4, "degC"), "met", 33, id="t-102.92F"),
    alt("hscore", "temperature", "temperature", (102.93, "degF"), (39.4055555556, "degC"), "met", 49, id="t-102.93F"),
    # cytopenias: Hb 92 g/L = 9.2 (met), 93 g/L = 9.3 (not); 5.70 mmol/L = 9.1847 (met);
    # 5.71 mmol/L = 9.2008 g/dL: NOT <= 9.2 (the spec's "9.2 g/dL = 5.71 mmol/L" is rounded)
    alt("hscore", ("cytopenias", "hemoglobin"), "hemoglobin", (92, "g/L"), (9.2, "g/dL"), "met", id="hb-92g/L"),
    alt("hscore", ("cytopenias", "hemoglobin"), "hemoglobin", (93, "g/L"), (9.3, "g/dL"), "not_met", id="hb-93g/L"),
    alt("hscore", ("cytopenias", "hemoglobin"), "hemoglobin", (5.70, "mmol/L"), (9.18466000645, "g/dL"), "met", id="hb-5.70mmol"),
    alt("hscore", ("cytopenias", "hemoglobin"), "hemoglobin", (5.71, "mmol/L"), (9.20077344505, "g/dL"), "not_met", id="hb-5.71mmol"),
    alt("hscore", ("cytopenias", "wbc"), "wbc", (5000, "/µL"), (5.0, "10^9/L"), "met", id="wbc-5000/uL"),
    alt("hscore", ("cytopenias", "wbc"), "wbc", (5100, "/µL"), (5.1, "10^9/L"), "not_met", id="wbc-5100/uL"),
    alt("hscore", ("cytopenias", "platelets"), "platelets", (110000, "/µL"), (110, "10^9/L"), "met", id="plt-110000/uL"),
    alt("hscore", ("cytopenias", "platelets"), "platelets", (111000, "/µL"), (111, "10^9/L"), "not_met", id="plt-111000/uL"),
    # ferritin ug/L
    alt("hscore", "ferritin", "ferritin", (2000, "µg/L"), (2000, "ng/mL"), "met", 35, id="ferritin-2000ug/L"),
    alt("hscore", "ferritin", "ferritin", (6001, "µg/L"), (6001, "ng/mL"), "met", 50, id="ferritin-6001ug/L"),
    # TG mg/dL / 88.57: 132.85 -> 1.49994 (0); 132.855 = 1.5 x 88.57 -> 1.5 (44);
    # 354.28 = 4.0 x 88.57 -> 4.0 (44); 354.29 -> 4.000113 (64); 354.3 -> 4.000226 (64)
    alt("hscore", "triglycerides", "triglycerides", (132.85, "mg/dL"), (1.49994354744, "mmol/L"), "not_met", 0, id="tg-132.85"),
    alt("hscore", "triglycerides", "triglycerides", (132.855, "mg/dL"), (1.5, "mmol/L"), "met", 44, id="tg-132.855"),
    alt("hscore", "triglycerides", "triglycerides", (354.28, "mg/dL"), (4.0, "mmol/L"), "met", 44, id="tg-354.28"),
    alt("hscore", "triglycerides", "triglycerides", (354.29, "mg/dL"), (4.00011290505, "mmol/L"), "met", 64, id="tg-354.29"),
    alt("hscore", "triglycerides", "triglycerides", (354.3, "mg/dL"), (4.0002258101, "mmol/L"), "met", 64, id="tg-354.3"),
    # fibrinogen: 250 mg/dL = 2.5 g/L (30); 251 mg/dL = 2.51 (0); 7.35 umol/L / 2.94 = 2.5 g/L (30)
    alt("hscore", "fibrinogen", "fibrinogen", (250, "mg/dL"), (2.5, "g/L"), "met", 30, id="fib-250mg/dL"),
    alt("hscore", "fibrinogen", "fibrinogen", (251, "mg/dL"), (2.51, "g/L"), "not_met", 0, id="fib-251mg/dL"),
    alt("hscore", "fibrinogen", "fibrinogen", (7.35, "µmol/L"), (2.5, "g/L"), "met", 30, id="fib-7.35umol"),
    # AST: 0.5 ukat/L x 60 = 30 (19); 0.48 x 60 = 28.8 (0)
    alt("hscore", "ast", "ast", (0.5, "µkat/L"), (30, "U/L"), "met", 19, id="ast-0.5ukat"),
    alt("hscore", "ast", "ast", (0.48, "µkat/L"), (28.8, "U/L"), "not_met", 0, id="ast-0.48ukat"),
    # ---- HLH-2004
    # fever: 101.3 degF = (101.3 - 32) x 5/9 = 38.5 (met); 101.2 degF = 38.444 (not)
    alt("hlh2004", "fever", "temperature", (101.3, "degF"), (38.5, "degC"), "met", id="fever-101.3F"),
    alt("hlh2004", "fever", "temperature", (101.2, "degF"), (38.4444444444, "degC"), "not_met", id="fever-101.2F"),
    # Hb 89 g/L = 8.9 (met), 90 g/L = 9.0 (not); infants: 99 g/L (met), 100 g/L (not)
    alt("hlh2004", ("cytopenias", "hemoglobin"), "hemoglobin", (89, "g/L"), (8.9, "g/dL"), "met", None, CHILD, id="hb-89"),
    alt("hlh2004", ("cytopenias", "hemoglobin"), "hemoglobin", (90, "g/L"), (9.0, "g/dL"), "not_met", None, CHILD, id="hb-90"),
    alt("hlh2004", ("cytopenias", "hemoglobin"), "hemoglobin", (99, "g/L"), (9.9, "g/dL"), "met", None, INFANT_27_DAYS, id="infant-hb-99"),
    alt("hlh2004", ("cytopenias", "hemoglobin"), "hemoglobin", (100, "g/L"), (10.0, "g/dL"), "not_met", None, INFANT_27_DAYS, id="infant-hb-100"),
    # platelets 99,000 /uL (met), 100,000 /uL (not); neutrophils 999 /uL (met), 1000 /uL (not)
    alt("hlh2004", ("cytopenias", "platelets"), "platelets", (99000, "/µL"), (99, "10^9/L"), "met", id="plt-99000"),
    alt("hlh2004", ("cytopenias", "platelets"), "platelets", (100000, "/µL"), (100, "10^9/L"), "not_met", id="plt-100000"),
    alt("hlh2004", ("cytopenias", "neutrophils"), "neutrophils", (999, "/µL"), (0.999, "10^9/L"), "met", id="anc-999"),
    alt("hlh2004", ("cytopenias", "neutrophils"), "neutrophils", (1000, "/µL"), (1.0, "10^9/L"), "not_met", id="anc-1000"),
    # TG mg/dL / 88.57: 265.71 = 3.0 x 88.57 -> 3.0 (met); 265.70 -> 2.999887 (not);
    # 265 -> 2.991984 (not: the spec's "i.e. >= 265 mg/dL" is a rounded conversion; compared in mmol/L)
    alt("hlh2004", ("triglycerides_fibrinogen", "triglycerides"), "triglycerides", (265.71, "mg/dL"), (3.0, "mmol/L"), "met", id="tg-265.71"),
    alt("hlh2004", ("triglycerides_fibrinogen", "triglycerides"), "triglycerides", (265.70, "mg/dL"), (2.99988709495, "mmol/L"), "not_met", id="tg-265.70"),
    alt("hlh2004", ("triglycerides_fibrinogen", "triglycerides"), "triglycerides", (265, "mg/dL"), (2.99198374167, "mmol/L"), "not_met", id="tg-265"),
    # fibrinogen 150 mg/dL = 1.5 g/L (met); 151 mg/dL = 1.51 (not)
    alt("hlh2004", ("triglycerides_fibrinogen", "fibrinogen"), "fibrinogen", (150, "mg/dL"), (1.5, "g/L"), "met", id="fib-150"),
    alt("hlh2004", ("triglycerides_fibrinogen", "fibrinogen"), "fibrinogen", (151, "mg/dL"), (1.51, "g/L"), "not_met", id="fib-151"),
    # ferritin 500 ug/L (met); sCD25 2400 kU/L = 2400 U/mL (met), 2399 kU/L (not)
    alt("hlh2004", "ferritin", "ferritin", (500, "µg/L"), (500, "ng/mL"), "met", id="ferritin-500ug/L"),
    alt("hlh2004", "scd25", "scd25", (2400, "kU/L"), (2400, "U/mL"), "met", id="scd25-2400kU/L"),
    alt("hlh2004", "scd25", "scd25", (2399, "kU/L"), (2399, "U/mL"), "not_met", id="scd25-2399kU/L"),
    # ---- Parodi 2009
    # fever > 38: 100.4 degF = 38.0 (not); 100.6 degF = 38.111 (met)
    alt("parodi2009", "fever", "temperature", (100.4, "degF"), (38.0, "degC"), "not_met", id="fever-100.4F"),
    alt("parodi2009", "fever", "temperature", (100.6, "degF"), (38.1111111111, "degC"), "met", id="fever-100.6F"),
    # WBC 4000 /uL = 4.0 (met), 4100 (not); Hb 90 g/L = 9.0 (met), 91 g/L (not); platelets 150,000 /uL (met)
    alt("parodi2009", ("cytopenias", "wbc"), "wbc", (4000, "/µL"), (4.0, "10^9/L"), "met", id="wbc-4000"),
    alt("parodi2009", ("cytopenias", "wbc"), "wbc", (4100, "/µL"), (4.1, "10^9/L"), "not_met", id="wbc-4100"),
    alt("parodi2009", ("cytopenias", "hemoglobin"), "hemoglobin", (90, "g/L"), (9.0, "g/dL"), "met", id="hb-90g/L"),
    alt("parodi2009", ("cytopenias", "hemoglobin"), "hemoglobin", (91, "g/L"), (9.1, "g/dL"), "not_met", id="hb-91g/L"),
    alt("parodi2009", ("cytopenias", "platelets"), "platelets", (150000, "/µL"), (150, "10^9/L"), "met", id="plt-150000"),
    alt("parodi2009", ("cytopenias", "platelets"), "platelets", (151000, "/µL"), (151, "10^9/L"), "not_met", id="plt-151000"),
    # AST > 40: 0.66 ukat/L x 60 = 39.6 (not); 0.67 x 60 = 40.2 (met: the spec's "40 U/L = 0.67" is rounded)
    alt("parodi2009", "ast", "ast", (0.66, "µkat/L"), (39.6, "U/L"), "not_met", id="ast-0.66ukat"),
    alt("parodi2009", "ast", "ast", (0.67, "µkat/L"), (40.2, "U/L"), "met", id="ast-0.67ukat"),
    # LDH > 567: 9.45 ukat/L x 60 = 567 (not); 9.46 x 60 = 567.6 (met)
    alt("parodi2009", "ldh", "ldh", (9.45, "µkat/L"), (567, "U/L"), "not_met", id="ldh-9.45ukat"),
    alt("parodi2009", "ldh", "ldh", (9.46, "µkat/L"), (567.6, "U/L"), "met", id="ldh-9.46ukat"),
    # fibrinogen <= 1.5 g/L: 150 mg/dL (met), 151 mg/dL (not)
    alt("parodi2009", "fibrinogen", "fibrinogen", (150, "mg/dL"), (1.5, "g/L"), "met", id="fib-150mg/dL"),
    alt("parodi2009", "fibrinogen", "fibrinogen", (151, "mg/dL"), (1.51, "g/L"), "not_met", id="fib-151mg/dL"),
    # TG > 178 mg/dL: 2.00 mmol/L x 88.57 = 177.14 (not); 2.01 x 88.57 = 178.0257 (met: "178 = 2.01" is rounded)
    alt("parodi2009", "triglycerides", "triglycerides", (2.00, "mmol/L"), (177.14, "mg/dL"), "not_met", id="tg-2.00mmol"),
    alt("parodi2009", "triglycerides", "triglycerides", (2.01, "mmol/L"), (178.0257, "mg/dL"), "met", id="tg-2.01mmol"),
    # ferritin > 500 ug/L
    alt("parodi2009", "ferritin", "ferritin", (500, "µg/L"), (500, "ng/mL"), "not_met", id="ferritin-500ug/L"),
    alt("parodi2009", "ferritin", "ferritin", (501, "µg/L"), (501, "ng/mL"), "met", id="ferritin-501ug/L"),
    # ---- OHI
    alt("ohi", "ferritin", "ferritin", (1000, "µg/L"), (1000, "ng/mL"), "not_met", id="ferritin-1000ug/L"),
    alt("ohi", "ferritin", "ferritin", (1001, "µg/L"), (1001, "ng/mL"), "met", id="ferritin-1001ug/L"),
    alt("ohi", "scd25", "scd25", (3900, "kU/L"), (3900, "U/mL"), "not_met", id="scd25-3900kU/L"),
    alt("ohi", "scd25", "scd25", (3901, "IU/mL"), (3901, "U/mL"), "met", id="scd25-3901IU/mL"),
]
# fmt: on


@pytest.mark.parametrize(("iid", "path", "analyte", "other", "published", "ctx", "result", "points"), OTHER_UNITS)
def test_threshold_in_another_unit(iid, path, analyte, other, published, ctx, result, points):
    typed = find(run({analyte: q(*other)}, **ctx), iid, path)
    reference = find(run({analyte: q(*published)}, **ctx), iid, path)
    # converted into the published unit, to the hand-computed value
    assert typed["value"] == pytest.approx(published[0], rel=1e-9)
    assert typed["result"] == reference["result"] == result
    assert typed["points"] == reference["points"] == points


# ----------------------------------------------------------------------------- cut-offs of scores


def ms_score(platelets, ldh, fibrinogen, ferritin, **context):
    return run(
        {"platelets": platelets, "ldh": ldh, "fibrinogen": fibrinogen, "ferritin": ferritin},
        cns_involvement=False,
        hemorrhagic_manifestations=False,
        active_arthritis=False,
        **context,
    )


@pytest.mark.parametrize(
    ("platelets", "fibrinogen", "ferritin", "score", "status"),
    [
        # base: -0.003 x 300 + 0.001 x 400 - 0.004 x 450 = -2.3; ferritin x 0.0001 moves it by 0.0001 per ng/mL
        pytest.param(300, 450, 1999, -2.1001, "not_met", id="score--2.1001"),  # -2.3 + 0.1999
        pytest.param(300, 450, 2000, -2.1, "met", id="score--2.1"),  # -2.3 + 0.2
        pytest.param(300, 450, 2001, -2.0999, "met", id="score--2.0999"),  # -2.3 + 0.2001
        # the same -2.1 with platelets 300,000 /uL (= 300) and fibrinogen 4.5 g/L (= 450 mg/dL)
        pytest.param(q(300000, "/µL"), q(4.5, "g/L"), 2000, -2.1, "met", id="score--2.1-other-units"),
        pytest.param(
            q(300, "10^3/µL"), q(4.5, "g/L"), q(1999, "µg/L"), -2.1001, "not_met", id="score--2.1001-other-units"
        ),
    ],
)
def test_ms_score_cutoff(platelets, fibrinogen, ferritin, score, status):
    c = crit(ms_score(platelets, 400, fibrinogen, ferritin), "ms_score")
    assert c["score"] == score
    assert c["status"] == status


@pytest.mark.parametrize(
    ("ferritin", "score", "aosd_status"),
    [
        # -2.3 + 0.0001 x ferritin: 5599 -> -1.7401; 5600 -> -1.74; 5601 -> -1.7399 (AOSD cut-off >= -1.74)
        pytest.param(5599, -1.7401, "not_met", id="aosd--1.7401"),
        pytest.param(5600, -1.74, "met", id="aosd--1.74"),
        pytest.param(5601, -1.7399, "met", id="aosd--1.7399"),
    ],
)
def test_ms_score_aosd_cutoff(ferritin, score, aosd_status):
    c = crit(ms_score(300, 400, 450, ferritin, underlying_disease="aosd", age_years=30), "ms_score")
    assert c["score"] == score
    assert c["status"] == "met"  # all three are >= -2.1: the status uses the derivation cut-off
    assert [(a["cutoff"], a["status"]) for a in c["additional_cutoffs"]] == [(-1.74, aosd_status)]


@pytest.mark.parametrize(
    ("context", "labs", "score", "status"),
    [
        # onset 1.0 (37) + platelets 50 (11) + Hb 7 (11) = 59 < 60
        pytest.param(
            {"age_at_onset_years": 1.0, "splenomegaly": False},
            {"neutrophils": 3, "fibrinogen": 300, "platelets": 50, "hemoglobin": 7},
            59,
            "not_met",
            id="mh-59",
        ),
        # onset 1.0 (37) + splenomegaly (12) + platelets 50 (11) = 60 >= 60
        pytest.param(
            {"age_at_onset_years": 1.0, "splenomegaly": True},
            {"neutrophils": 3, "fibrinogen": 300, "platelets": 50, "hemoglobin": 12},
            60,
            "met",
            id="mh-60",
        ),
        # onset 1.0 (37) + fibrinogen 100 (15) + Hb 7 (11) = 63
        pytest.param(
            {"age_at_onset_years": 1.0, "splenomegaly": False},
            {"neutrophils": 3, "fibrinogen": 100, "platelets": 300, "hemoglobin": 7},
            63,
            "met",
            id="mh-63",
        ),
    ],
)
def test_mh_score_cutoff(context, labs, score, status):
    c = crit(run(labs, **context), "mh_score")
    assert c["score"] == score
    assert c["status"] == status


@pytest.mark.parametrize(
    ("points", "score", "status"),
    [
        pytest.param(
            {"ferritin": 50, "tg": 64, "ast": 19, "marrow": 35}, 168, "not_met", id="hscore-168"
        ),  # 50+64+19+35
        pytest.param({"temp": 33, "organ": 38, "cyto": 34, "tg": 64}, 169, "met", id="hscore-169"),  # 33+38+34+64
        pytest.param({"temp": 33, "organ": 23, "ferritin": 50, "tg": 64}, 170, "met", id="hscore-170"),  # 33+23+50+64
    ],
)
def test_hscore_cutoff(points, score, status):
    c = crit(hscore_patient(**points), "hscore")
    assert c["score"] == score
    assert c["status"] == status


# Each HLH-2004 criterion decided: (inputs that meet it, inputs that do not).
HLH_DECIDED = {
    "fever": ({"febrile": True}, {"febrile": False}),
    "splenomegaly": ({"splenomegaly": True}, {"splenomegaly": False}),
    # Hb 8 < 9 and platelets 50 < 100 -> 2 lineages; vs none
    "cytopenias": (
        {"hemoglobin": 8, "platelets": 50, "neutrophils": 3},
        {"hemoglobin": 12, "platelets": 300, "neutrophils": 3},
    ),
    # TG 3.5 >= 3.0 mmol/L; vs TG 1.0 and fibrinogen 3 g/L > 1.5
    "tg_fib": (
        {"triglycerides": q(3.5, "mmol/L"), "fibrinogen": q(3, "g/L")},
        {"triglycerides": q(1, "mmol/L"), "fibrinogen": q(3, "g/L")},
    ),
    "hemophagocytosis": (
        {"hemophagocytosis_marrow": True, "hemophagocytosis_other_site": False},
        {"hemophagocytosis_marrow": False, "hemophagocytosis_other_site": False},
    ),
    "nk": ({"nk_activity_low": True}, {"nk_activity_low": False}),
    "ferritin": ({"ferritin": 800}, {"ferritin": 300}),  # >= 500 vs not
    "scd25": ({"scd25": 3000}, {"scd25": 1000}),  # >= 2400 vs not
}
HLH_LABS = {"hemoglobin", "platelets", "neutrophils", "triglycerides", "fibrinogen", "ferritin", "scd25"}


def hlh_patient(met: set[str]) -> dict:
    labs: dict = {}
    context: dict = {"age_years": 5}
    for name, (on, off) in HLH_DECIDED.items():
        for key, value in (on if name in met else off).items():
            (labs if key in HLH_LABS else context)[key] = value
    return run(labs, **context)


@pytest.mark.parametrize(
    ("met", "status"),
    [
        pytest.param({"fever", "splenomegaly", "cytopenias", "ferritin"}, "not_met", id="hlh-4-of-8"),
        pytest.param({"fever", "splenomegaly", "cytopenias", "ferritin", "tg_fib"}, "met", id="hlh-5-of-8"),
        pytest.param({"fever", "splenomegaly", "cytopenias", "ferritin", "tg_fib", "scd25"}, "met", id="hlh-6-of-8"),
        pytest.param({"hemophagocytosis", "nk", "ferritin", "scd25", "tg_fib"}, "met", id="hlh-5-other"),
    ],
)
def test_hlh2004_required_count(met, status):
    c = crit(hlh_patient(met), "hlh2004")
    assert (c["count_met"], c["count_assessable"]) == (len(met), 8)
    assert c["status"] == status


@pytest.mark.parametrize(
    ("labs", "count_met", "status"),
    [
        # febrile, ferritin 800 > 684; companions: platelets 150 (yes), AST 30, TG 100, fibrinogen 400 (no)
        pytest.param({"platelets": 150, "ast": 30, "triglycerides": 100, "fibrinogen": 400}, 1, "not_met", id="mas-1"),
        pytest.param({"platelets": 150, "ast": 60, "triglycerides": 100, "fibrinogen": 400}, 2, "met", id="mas-2"),
        pytest.param({"platelets": 150, "ast": 60, "triglycerides": 200, "fibrinogen": 400}, 3, "met", id="mas-3"),
    ],
)
def test_mas2016_two_companions_required(labs, count_met, status):
    c = crit(run({**labs, "ferritin": 800}, febrile=True), "mas2016")
    assert (c["count_met"], c["count_assessable"]) == (count_met, 4)
    assert c["status"] == status


PARODI_NONE = {
    "hepatomegaly": False,
    "splenomegaly": False,
    "hemorrhagic_manifestations": False,
    "cns_involvement": False,
}
PARODI_LABS_NONE = {
    "wbc": 8,
    "hemoglobin": 12,
    "platelets": 300,
    "ast": 20,
    "ldh": 200,
    "fibrinogen": q(3, "g/L"),
    "triglycerides": 100,
    "ferritin": 100,
}


@pytest.mark.parametrize(
    ("clinical", "labs", "count_met", "status"),
    [
        # 1 clinical (fever 39 > 38) + 1 laboratory (ferritin 800) -> not met
        pytest.param({"temperature": 39}, {"ferritin": 800}, 2, "not_met", id="1-clinical-1-lab"),
        # 0 clinical (37 degC) + 2 laboratory (ferritin 800, AST 60) -> not met
        pytest.param({"temperature": 37}, {"ferritin": 800, "ast": 60}, 2, "not_met", id="0-clinical-2-lab"),
        # 1 clinical + 2 laboratory -> met
        pytest.param({"temperature": 39}, {"ferritin": 800, "ast": 60}, 3, "met", id="1-clinical-2-lab"),
    ],
)
def test_parodi_rule(clinical, labs, count_met, status):
    c = crit(run({**PARODI_LABS_NONE, **clinical, **labs}, **PARODI_NONE), "parodi2009")
    assert (c["count_met"], c["count_assessable"]) == (count_met, 11)
    assert c["status"] == status


@pytest.mark.parametrize(
    ("scd25", "ferritin", "status"),
    [
        pytest.param(3901, 1001, "met", id="ohi-both-above"),
        pytest.param(3901, 1000, "not_met", id="ohi-ferritin-at"),
        pytest.param(3900, 1001, "not_met", id="ohi-scd25-at"),
    ],
)
def test_ohi_rule(scd25, ferritin, status):
    assert crit(run({"scd25": scd25, "ferritin": ferritin}), "ohi")["status"] == status


@pytest.mark.parametrize(
    ("ferritin", "esr", "score", "status"),
    [
        pytest.param(2149, 100, 21.49, "not_met", id="ratio-21.49"),
        pytest.param(2150, 100, 21.5, "met", id="ratio-21.5"),
        pytest.param(2151, 100, 21.51, "met", id="ratio-21.51"),
        # rounding to 2 dp for display must not decide: 21.496 shows as 21.5 yet is < 21.5
        pytest.param(2149.6, 100, 21.5, "not_met", id="ratio-21.496-shown-21.5"),
    ],
)
def test_ferritin_esr_cutoff(ferritin, esr, score, status):
    c = crit(run({"ferritin": ferritin, "esr": esr}), "ferritin_esr")
    assert c["score"] == score
    assert c["status"] == status
