"""The CDS Hooks service as an EHR calls it: a real `serve-cds` process (uvicorn) per module.

Requests are shaped like the CDS Hooks 2.0 specification's examples and like an EHR sandbox sends
them (searchset Bundles with fullUrl/search.mode, null for "no data", keys left out, an
OperationOutcome entry), signed with an ES384 key the service trusts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from cds_support import (
    CALM_PANEL,
    ICD10CM,
    LOINC,
    MAS_PANEL,
    ROOT,
    SNOMED,
    FhirServer,
    ago,
    call_body,
    condition,
    ec_client,
    observation,
    rsa_client,
    sjia,
    start_serve_cds,
    stop,
)

from mas_screen.criteria.loading import criteria
from mas_screen.faces.cds_hooks.discovery import SERVICES, prefetch_templates

SERVICE = "/cds-services/mas-screen"
ORDER = "/cds-services/mas-screen-order-sign"
BEDSIDE = "https://mas-screen.example.org/assess"
ORIGIN = "https://ehr.example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cds")
    ehr, other = ec_client(), rsa_client()
    config = {
        "bedside_url": BEDSIDE,
        "cors_origins": [ORIGIN],
        "max_body_bytes": 300_000,
        "fhir_allow_http": True,
        "fhir_timeout_seconds": 3,
        "issuers": [
            {"iss": ehr.iss, "jwks": {"keys": [ehr.public_jwk()]}},
            {"iss": other.iss, "jwks": {"keys": [other.public_jwk()]}},
        ],
    }
    srv = start_serve_cds(tmp, config=config)
    srv.clients = [ehr, other]
    yield srv
    stop(srv)


def screen(server, body, path=SERVICE):
    status, data, _ = server.signed("POST", path, body)
    assert status == 200, data
    assert set(data) == {"cards"}
    return data["cards"]


def mas_observations(panel=MAS_PANEL, hours_ago=2, patient="p1"):
    return [observation(c, v, u, hours_ago=hours_ago, patient=patient) for c, v, u in panel]


# ---------------------------------------------------------------------------------- discovery


def test_discovery_lists_both_services_with_prefetch_templates(server):
    status, data, _ = server.signed("GET", "/cds-services")
    assert status == 200
    services = {s["id"]: s for s in data["services"]}
    assert set(services) == {"mas-screen", "mas-screen-order-sign"}
    assert services["mas-screen"]["hook"] == "patient-view"
    assert services["mas-screen-order-sign"]["hook"] == "order-sign"
    for s in services.values():
        assert set(s) == {"hook", "title", "description", "id", "prefetch"}  # spec fields only, none empty
        assert all(isinstance(v, str) and v for v in (s["hook"], s["title"], s["description"], s["id"]))
        prefetch = s["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"
        for key, spec in criteria().analytes.analytes.items():
            template = prefetch[key]
            assert template.startswith("Observation?patient={{context.patientId}}&code=")
            assert template.endswith("&_sort=-date&_count=10")
            assert [c.split("|")[1] for c in template.split("code=")[1].split("&")[0].split(",")] == spec.loinc
            # CDS Hooks prefetch query restrictions: only tokens, token equality, _sort, _count
            assert set(re.findall(r"[?&]([a-z_]+)=", template)) <= {"patient", "code", "_sort", "_count"}
        tokens = set(re.findall(r"{{(.*?)}}", json.dumps(prefetch)))
        assert tokens == {"context.patientId"}


def test_discovery_requires_a_token_too(server):
    status, data, headers = server.request("GET", "/cds-services")
    assert status == 401 and data is None and headers.get("www-authenticate") == "Bearer"


def test_health_check_needs_no_token(server):
    status, data, _ = server.request("GET", "/healthz")
    assert status == 200 and data == {"status": "ok"}


# -------------------------------------------------------------------------------- the cards


def test_mas_patient_gets_a_critical_card_field_by_field(server):
    body = call_body(mas_observations(), conditions=sjia())
    (card,) = screen(server, body)
    assert set(card) == {"uuid", "summary", "indicator", "detail", "source", "links", "overrideReasons", "extension"}
    assert card["indicator"] == "critical"  # the 2016 criteria are met in sJIA
    assert card["summary"] == "Features suggestive of MAS: 2016 MAS criteria, MS score met (systemic JIA)"
    assert len(card["summary"]) < 140
    assert re.fullmatch(r"[0-9a-f-]{36}", card["uuid"])
    assert card["source"] == {
        "label": "MAS Screen — 2016 MAS criteria (Ravelli 2016)",
        "url": "https://doi.org/10.1002/art.39332",
    }
    assert card["links"] == [
        {"label": "Open MAS Screen (bedside page) to review and complete the panel", "url": BEDSIDE, "type": "absolute"}
    ]
    assert all(r["display"] and r["code"] and r["system"] for r in card["overrideReasons"])
    ext = card["extension"]["mas-screen"]
    assert ext["rule"] == "critical_2016_or_hlh2004"
    assert ext["underlying_disease"] == "sjia" and ext["mas_signal"] == "suggestive"
    assert ext["own_instruments"] == ["mas2016", "ms_score"] and ext["own_met"] == ["mas2016", "ms_score"]
    assert ext["statuses"]["mas2016"] == "met"
    assert ext["provenance"]["criteria_sha256"] and "input" not in ext["provenance"]
    detail = card["detail"]
    assert detail.startswith("**Features suggestive of MAS** — screening aid, not a diagnosis.")
    assert "Underlying disease: systemic JIA (from ICD-10-CM M08.20, SNOMED CT 201796004)" in detail
    assert "| 2016 MAS criteria (this population) | **met** | 4 met of 4 assessable |" in detail
    # the values that drove it, with units and times
    assert re.search(r"Ferritin \(mandatory\) 8400 ng/mL \(> 684 ng/mL, \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", detail)
    assert "Triglycerides 2.4 mmol/L (> 156 mg/dL" in detail and "Fibrinogen 1.9 g/L (≤ 360 mg/dL" in detail
    assert (
        "Also met by instruments built for other populations (indicative only): HScore, Parodi 2009 (jSLE)." in detail
    )
    assert "- Temperature (highest in last 24 h): 39.5 °C," in detail
    assert "repeat the routine panel" in detail  # own instruments decided: no list of other populations' tests
    assert "IL-1 or IL-6 blockade" in detail  # biologic therapy not known in sJIA
    assert "Screening aid, not a diagnosis" in detail
    assert "[Ravelli 2016](https://doi.org/10.1002/art.39332)" in detail
    assert "_Provenance: MAS Screen " in detail and "criteria SHA-256" in detail


def test_calm_patient_gets_no_card(server):
    body = call_body([observation(c, v, u) for c, v, u in CALM_PANEL], conditions=sjia())
    assert screen(server, body) == []


def test_patient_with_no_relevant_data_gets_no_card(server):
    unrelated = observation("2345-7", 5.5, "mmol/L")  # glucose: not a MAS lab
    body = call_body([unrelated], conditions=[condition(SNOMED, "195967001")])
    assert screen(server, body) == []


def test_high_ferritin_with_missing_tests_gets_an_info_card_naming_them(server):
    body = call_body([observation("2276-4", 2500, "ng/mL")], conditions=sjia())
    (card,) = screen(server, body)
    assert card["indicator"] == "info"
    assert card["extension"]["mas-screen"]["rule"] == "info_ferritin_undecided"
    assert card["summary"].startswith("Ferritin 2500 ng/mL; MAS screen undecided. Would decide: ")
    assert "platelet count" in card["summary"] and len(card["summary"]) < 140
    assert "**Tests that would decide:** " in card["detail"]
    assert "fever" not in card["summary"].lower() or "temperature" in card["summary"]


def test_warning_card_for_an_own_instrument_other_than_2016_or_hlh2004(server):
    # Unknown disease: own instruments HScore and HLH-2004. HScore met, HLH-2004 not decided → warning.
    obs = [
        observation("8310-5", 39.8, "Cel"),
        observation("2276-4", 9000, "ng/mL"),
        observation("777-3", 60, "10*9/L"),
        observation("718-7", 7.5, "g/dL"),
        observation("6690-2", 1.5, "10*9/L"),
        observation("14927-8", 4.5, "mmol/L"),
        observation("3255-7", 2.0, "g/L"),
        observation("1920-8", 150, "U/L"),
    ]
    (card,) = screen(server, call_body(obs))
    ext = card["extension"]["mas-screen"]
    assert ext["underlying_disease"] == "unknown" and ext["own_instruments"] == ["hscore", "hlh2004"]
    assert ext["statuses"]["hscore"] == "met"
    expected = "critical" if ext["statuses"]["hlh2004"] == "met" else "warning"
    assert card["indicator"] == expected
    assert card["summary"].startswith("Features suggestive of a haemophagocytic syndrome (HLH/MAS): HScore")


def test_other_population_instruments_alone_raise_no_alarm(server):
    """SLE: the own instrument is Parodi 2009 (undecided here: no clinical items known). The MS score
    and HScore are met, but they were built for other populations: an info card naming the tests,
    never a warning (contract, revised 2026-12-06)."""
    obs = [
        observation("2276-4", 9000, "ng/mL"),
        observation("777-3", 60, "10*9/L"),
        observation("1920-8", 150, "U/L"),
        observation("14927-8", 4.5, "mmol/L"),
        observation("3255-7", 1.0, "g/L"),
        observation("8310-5", 36.5, "Cel"),
        observation("718-7", 7, "g/dL"),
        observation("6690-2", 1.5, "10*9/L"),
    ]
    (card,) = screen(server, call_body(obs, conditions=[condition(SNOMED, "55464009")]))
    ext = card["extension"]["mas-screen"]
    assert ext["underlying_disease"] == "sle" and ext["own_instruments"] == ["parodi2009"]
    assert ext["statuses"]["hscore"] == ext["statuses"]["ms_score"] == "met"
    assert ext["statuses"]["parodi2009"] == "indeterminate" and ext["mas_signal"] == "insufficient_data"
    assert card["indicator"] == "info" and ext["rule"] == "info_ferritin_undecided"
    assert "Also met by instruments built for other populations (indicative only): MS score, HScore." in card["detail"]


def test_si_and_us_units_give_the_same_statuses(server):
    si = [
        observation("2276-4", 5000, "ug/L"),
        observation("777-3", 120, "10*9/L"),
        observation("1920-8", 1.5, "ukat/L"),  # 90 U/L
        observation("14927-8", 3.0, "mmol/L"),
        observation("3255-7", 1.5, "g/L"),
        observation("8310-5", 39.0, "Cel"),
    ]
    us = [
        observation("2276-4", 5000, "ng/mL"),
        observation("777-3", 120, "10*3/uL"),
        observation("1920-8", 90, "U/L"),
        observation("2571-8", 265.71, "mg/dL"),
        observation("3255-7", 150, "mg/dL"),
        observation("8310-5", 102.2, "[degF]"),
    ]
    (a,) = screen(server, call_body(si, conditions=sjia()))
    (b,) = screen(server, call_body(us, conditions=sjia()))
    assert a["extension"]["mas-screen"]["statuses"] == b["extension"]["mas-screen"]["statuses"]
    assert a["indicator"] == b["indicator"] == "critical"
    assert "1.5 µkat/L" in a["detail"] and "102.2 °F" in b["detail"]


def test_duplicates_at_several_times_use_the_latest_and_note_the_older(server):
    obs = [
        observation("2276-4", 900, "ng/mL", hours_ago=50),
        observation("2276-4", 4200, "ng/mL", hours_ago=26),
        observation("2276-4", 7600, "ng/mL", hours_ago=1),
        observation("2276-4", 300, "ng/mL", hours_ago=100),  # outside the 72-h window
        observation("777-3", 250, "10*9/L", hours_ago=30),
        observation("777-3", 140, "10*9/L", hours_ago=3),
        observation("8310-5", 39.6, "Cel", hours_ago=20),  # temperature: the 24-h high, not the latest
        observation("8310-5", 37.2, "Cel", hours_ago=1),
        observation("8310-5", 40.5, "Cel", hours_ago=30),  # older than 24 h: not the 24-h high
        observation("1920-8", 88, "U/L", hours_ago=2),
    ]
    (card,) = screen(server, call_body(obs, conditions=sjia()))
    detail = card["detail"]
    line = next(x for x in detail.splitlines() if x.startswith("- Ferritin: "))
    assert line.startswith("- Ferritin: 7600 ng/mL, ")
    assert "earlier: 4200 ng/mL (" in line and "; 900 ng/mL (" in line and "300" not in line
    assert "Not used (outside the window): Ferritin ×1" in detail
    assert (
        "- Temperature (highest in last 24 h): 39.6 °C" in detail
        and "(the highest of 2 readings in the last 24 h)" in detail
    )
    assert card["extension"]["mas-screen"]["statuses"]["mas2016"] == "met"


def test_two_different_results_at_the_same_instant_are_both_left_out(server):
    when = ago(2)
    obs = [
        observation("2276-4", 5000, "ng/mL", when=when),
        observation("2276-4", 500, "ng/mL", when=when),
        observation("777-3", 100, "10*9/L"),
    ]
    cards = screen(server, call_body(obs, conditions=sjia()))
    assert cards == []  # ferritin unknown, nothing else points to MAS


def test_times_with_offsets_are_compared_as_instants(server):
    # 71 h ago written in +14:00 is inside the window; 73 h ago written in -12:00 is outside.
    from datetime import UTC, datetime, timedelta, timezone

    inside = (datetime.now(UTC) - timedelta(hours=71)).astimezone(timezone(timedelta(hours=14))).isoformat()
    outside = (datetime.now(UTC) - timedelta(hours=73)).astimezone(timezone(timedelta(hours=-12))).isoformat()
    obs = [observation("2276-4", 3000, "ng/mL", when=inside), observation("777-3", 90, "10*9/L", when=outside)]
    (card,) = screen(server, call_body(obs, conditions=sjia()))
    assert "- Ferritin: 3000 ng/mL" in card["detail"]
    assert "Platelet count ×1" in card["detail"]  # outside the window


def test_malformed_fhir_is_reported_and_the_rest_is_used(server):
    broken = observation("777-3", 120, "10*9/L")
    del broken["status"]  # invalid Observation
    unknown_unit = observation("1920-8", 95, "kat/h")
    other_patient = observation("3255-7", 1.0, "g/L", patient="someone-else")
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "informational"}]}
    obs = [observation("2276-4", 8000, "ng/mL"), broken, unknown_unit, other_patient]
    body = call_body(obs, conditions=sjia())
    body["prefetch"]["ferritin"]["entry"].append({"resource": outcome, "search": {"mode": "outcome"}})
    body["prefetch"]["platelets"] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": "nonsense"}]}
    (card,) = screen(server, body)
    detail = card["detail"]
    assert "not a valid Observation" in detail
    assert "unit 'kat/h' is not one MAS Screen converts" in detail
    assert "is about another patient; not used." in detail
    assert "prefetch 'platelets': entry 0 is not a FHIR resource; not used." in detail
    assert card["indicator"] == "info"  # ferritin alone: undecided, tests named


def test_prefetch_that_is_not_fhir_is_a_400(server):
    body = call_body([], conditions=sjia())
    body["prefetch"]["ferritin"] = "Observation?patient=p1"
    status, data, _ = server.signed("POST", SERVICE, body)
    assert status == 400 and data == {"error": "prefetch 'ferritin' is not a FHIR resource or Bundle"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("hookInstance"), "'hookInstance' must be a non-empty string"),
        (lambda b: b["context"].pop("patientId"), "'context.patientId' must be a FHIR id"),
        (lambda b: b["context"].update(patientId="../../etc"), "'context.patientId' must be a FHIR id"),
        (lambda b: b.update(hook="order-sign"), "this service answers the patient-view hook"),
        (lambda b: b.update(context="p1"), "'context' must be an object"),
        (lambda b: b.update(fhirAuthorization={"access_token": "x"}), "'fhirServer' is required"),
    ],
)
def test_bad_requests_are_400_naming_the_field(server, change, message):
    body = call_body([], conditions=sjia())
    change(body)
    status, data, _ = server.signed("POST", SERVICE, body)
    assert status == 400 and message in data["error"]


def test_wrong_content_type_is_415(server):
    ehr = server.clients[0]
    status, data, _ = server.request(
        "POST",
        SERVICE,
        raw=json.dumps(call_body([])).encode(),
        token=ehr.token(server.url(SERVICE)),
        headers={"Content-Type": "text/plain"},
    )
    assert status == 415 and "application/json" in data["error"]


def test_body_that_is_not_json_is_400(server):
    ehr = server.clients[0]
    status, data, _ = server.request("POST", SERVICE, raw=b"{not json", token=ehr.token(server.url(SERVICE)))
    assert status == 400 and data == {"error": "the request body is not JSON"}


def test_oversized_body_is_413(server):
    many = [observation("2276-4", 1000 + i, "ng/mL", hours_ago=1 + i / 100) for i in range(1200)]
    raw = json.dumps(call_body(many)).encode()
    assert len(raw) > 300_000
    ehr = server.clients[0]
    assert post_raw(server, raw, ehr.token(server.url(SERVICE))) == 413


def post_raw(server, raw: bytes, token: str, chunked: bool = False) -> int:
    """POST that reads the answer even when the server answers (413) and closes before the whole
    body is sent, as a server that refuses a large body by its Content-Length does."""
    import http.client

    host, port = server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", SERVICE)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Authorization", "Bearer " + token)
    conn.putheader("Transfer-Encoding" if chunked else "Content-Length", "chunked" if chunked else str(len(raw)))
    conn.endheaders()
    try:
        for start in range(0, len(raw), 16384):
            chunk = raw[start : start + 16384]
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
        if chunked:
            conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server already answered
    return conn.getresponse().status


def test_oversized_body_without_content_length_is_413(server):
    ehr = server.clients[0]
    body = json.dumps(call_body([observation("2276-4", 1000, "ng/mL")] * 900)).encode()
    assert len(body) > 300_000
    assert post_raw(server, body, ehr.token(server.url(SERVICE)), chunked=True) == 413


def test_unknown_service_is_404(server):
    status, _, _ = server.signed("POST", "/cds-services/nope", call_body([]))
    assert status == 404


# ------------------------------------------------------------------------------ conditions


@pytest.mark.parametrize(
    ("system", "code", "disease"),
    [
        (ICD10CM, "M08.20", "sjia"),
        (ICD10CM, "M08.2A", "sjia"),
        (ICD10CM, "M08.261", "sjia"),
        ("http://hl7.org/fhir/sid/icd-10", "M08.2", "sjia"),
        (SNOMED, "201796004", "sjia"),
        (ICD10CM, "M06.1", "aosd"),
        (ICD10CM, "M32.14", "sle"),
        (ICD10CM, "M32.9", "sle"),
        (SNOMED, "55464009", "sle"),
        (ICD10CM, "M32.0", "unknown"),  # drug-induced lupus: not mapped
        (SNOMED, "410795001", "unknown"),  # JIA of any subtype: not the 2016 population
        (ICD10CM, "M08.00", "unknown"),
    ],
)
def test_condition_codes_name_the_underlying_disease(server, system, code, disease):
    body = call_body([observation("2276-4", 2500, "ng/mL")], conditions=[condition(system, code)])
    (card,) = screen(server, body)
    assert card["extension"]["mas-screen"]["underlying_disease"] == disease


def test_provisional_sjia_is_suspected_sjia_and_refuted_is_ignored(server):
    body = call_body(
        [observation("2276-4", 2500, "ng/mL")], conditions=[condition(ICD10CM, "M08.20", verification="provisional")]
    )
    (card,) = screen(server, body)
    assert card["extension"]["mas-screen"]["underlying_disease"] == "suspected_sjia"
    body = call_body(
        [observation("2276-4", 2500, "ng/mL")], conditions=[condition(ICD10CM, "M08.20", verification="refuted")]
    )
    (card,) = screen(server, body)
    assert card["extension"]["mas-screen"]["underlying_disease"] == "unknown"


def test_several_diseases_take_the_first_in_priority_and_say_so(server):
    body = call_body([observation("2276-4", 2500, "ng/mL")], conditions=[condition(SNOMED, "55464009"), *sjia()])
    (card,) = screen(server, body)
    assert card["extension"]["mas-screen"]["underlying_disease"] == "sjia"
    assert "also coded: systemic lupus erythematosus (lower priority)" in card["detail"]


# --------------------------------------------------------------------------- missing prefetch


def test_missing_prefetch_is_fetched_from_the_fhir_server_with_the_token(server):
    fhir = FhirServer("fetch-7", "fhir-token-123")
    try:
        body = {
            "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "fhirServer": fhir.base,
            "hook": "patient-view",
            "fhirAuthorization": {
                "access_token": "fhir-token-123",
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/Patient.read patient/Observation.read patient/Condition.read",
                "subject": "cds-service4",
            },
            "context": {"userId": "Practitioner/example", "patientId": "fetch-7", "encounterId": "89284"},
        }  # the spec's example request, with no prefetch at all
        (card,) = screen(server, body)
        paths = [p for p, _ in fhir.requests]
        assert all(auth == "Bearer fhir-token-123" for _, auth in fhir.requests)
        assert "/fhir/Patient/fetch-7" in paths
        assert any(p.startswith("/fhir/Condition?patient=fetch-7") for p in paths)
        assert sum(p.startswith("/fhir/Observation?patient=fetch-7") for p in paths) == len(
            criteria().analytes.analytes
        )
        assert card["indicator"] == "critical"
        detail = card["detail"]
        assert "- Ferritin: 12500 µg/L" in detail and "earlier: 3100 µg/L" in detail
        assert "103.1 °F" in detail and "Triglycerides ×1" in detail  # a week old: outside the window
        assert "Underlying disease: systemic JIA (from ICD-10-CM M08.20)" in detail
    finally:
        fhir.close()


def test_missing_prefetch_without_a_fhir_server_answers_from_what_was_sent(server):
    body = call_body(mas_observations(), conditions=sjia())
    body["prefetch"] = {"ferritin": body["prefetch"]["ferritin"]}  # no patient, conditions, other labs
    (card,) = screen(server, body)
    assert "Not sent by the EHR (and not fetched): Patient, Conditions, platelet count, " in card["detail"]
    assert card["extension"]["mas-screen"]["underlying_disease"] == "unknown"


def test_nothing_sent_at_all_says_not_screened(server):
    body = call_body([])
    body["prefetch"] = {}
    (card,) = screen(server, body)
    assert card["indicator"] == "info"
    assert card["summary"] == "MAS Screen received no laboratory results from the EHR: not screened"


def test_a_failing_fhir_server_gives_a_clear_error_card(server):
    fhir = FhirServer("p1", "right-token")
    try:
        body = call_body(mas_observations(), conditions=sjia())
        body["prefetch"] = {"ferritin": body["prefetch"]["ferritin"]}
        body.update(fhirServer=fhir.base, fhirAuthorization={"access_token": "wrong-token", "token_type": "Bearer"})
        cards = screen(server, body)
        error = cards[0]
        assert error["indicator"] == "info"
        assert error["summary"].startswith("MAS Screen could not read ")
        assert error["summary"].endswith("from the EHR's FHIR server; screened without it")
        assert "Could not be fetched from the FHIR server: " in error["detail"]
        # the screen still ran on what was sent; without the Conditions the disease is not known,
        # so HScore and HLH-2004 are the patient's own instruments: HScore met → warning
        assert cards[1]["indicator"] == "warning"
        assert cards[1]["extension"]["mas-screen"]["underlying_disease"] == "unknown"
    finally:
        fhir.close()


def test_an_unreachable_fhir_server_times_out_into_the_error_card(server):
    from cds_support import free_port

    body = call_body(mas_observations(), conditions=sjia())
    body["prefetch"] = {"ferritin": body["prefetch"]["ferritin"]}
    body.update(fhirServer=f"http://127.0.0.1:{free_port()}/fhir", fhirAuthorization={"access_token": "t"})
    cards = screen(server, body)
    assert cards[0]["summary"].startswith("MAS Screen could not read ")


# ------------------------------------------------------------------------------- order-sign


def draft(*codes: tuple[str, str]) -> dict:
    return {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "ServiceRequest",
                    "id": f"sr-{i}",
                    "status": "draft",
                    "intent": "order",
                    "subject": {"reference": "Patient/p1"},
                    "code": {"coding": [{"system": system, "code": code}]},
                }
            }
            for i, (system, code) in enumerate(codes)
        ],
    }


def order_body(observations, orders: dict, conditions=None) -> dict:
    body = call_body(observations, hook="order-sign", conditions=conditions if conditions is not None else sjia())
    body["context"]["draftOrders"] = orders
    return body


def test_order_sign_for_ferritin_names_the_other_tests(server):
    body = order_body([], draft((LOINC, "2276-4")))
    (card,) = screen(server, body, ORDER)
    assert card["indicator"] == "info"
    assert card["extension"]["mas-screen"]["rule"] == "info_order_at_risk"
    assert card["summary"].startswith("Ferritin ordered (systemic JIA): for a MAS screen also order ")
    assert "ferritin" not in card["summary"].split("also order ")[1]  # not the test being ordered
    assert "platelet count" in card["summary"] and len(card["summary"]) < 140
    assert "Being ordered: ferritin." in card["detail"]


def test_order_sign_for_a_marrow_aspirate_and_fibrinogen(server):
    body = order_body([observation("2276-4", 2500, "ng/mL")], draft((SNOMED, "49401003"), (LOINC, "3255-7")))
    (card,) = screen(server, body, ORDER)
    assert "Being ordered: bone-marrow aspirate and fibrinogen." in card["detail"]
    assert card["indicator"] == "info"


def test_order_sign_with_mas_already_shows_the_warning(server):
    body = order_body(mas_observations(), draft((LOINC, "14927-8")))
    (card,) = screen(server, body, ORDER)
    assert card["indicator"] == "critical"


def test_order_sign_of_other_orders_gives_no_card(server):
    # The spec's R4 example: a diet order and an antibiotic; nothing MAS Screen screens for.
    orders = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "NutritionOrder", "id": "pureeddiet-simple", "status": "draft",
                          "intent": "order", "patient": {"reference": "Patient/p1"}, "dateTime": "2014-09-17"}},
            {"resource": {"resourceType": "MedicationRequest", "id": "smart-MedicationRequest-103", "status": "draft",
                          "intent": "order", "subject": {"reference": "Patient/p1"},
                          "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "617993"}]}}},
        ],
    }  # fmt: skip
    assert screen(server, order_body(mas_observations(), orders), ORDER) == []


def test_order_sign_for_a_patient_not_at_risk_gives_no_card(server):
    body = order_body([], draft((LOINC, "2276-4")), conditions=[])
    assert screen(server, body, ORDER) == []


def test_order_sign_needs_draft_orders(server):
    body = call_body([], hook="order-sign")
    status, data, _ = server.signed("POST", ORDER, body)
    assert status == 400 and "draftOrders" in data["error"]


# -------------------------------------------------------------------------- feedback, CORS


def test_feedback_is_accepted_and_counted(server):
    card = screen(server, call_body(mas_observations(), conditions=sjia()))[0]
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-06T08:00:00Z",
             "overrideReason": {"reason": {"code": "already-assessed", "system": "urn:mas-screen:override-reason"},
                                "userComment": "comment-text-7391"}},
            {"card": card["uuid"], "outcome": "accepted", "acceptedSuggestions": [], "outcomeTimestamp": "2026-12-06T08:00:00Z"},
        ]
    }  # fmt: skip
    status, data, _ = server.signed("POST", SERVICE + "/feedback", body)
    assert status == 200 and data == {"received": 2}
    assert "feedback (mas-screen): accepted 1, overridden 1, reason:already-assessed 1" in server.log()
    assert "comment-text-7391" not in server.log()


def test_feedback_needs_a_token(server):
    status, _, _ = server.request("POST", SERVICE + "/feedback", {"feedback": []})
    assert status == 401


def test_cors_allows_only_the_configured_origin(server):
    pre = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    status, _, headers = server.request("OPTIONS", SERVICE, headers=pre)
    assert status == 200 and headers.get("access-control-allow-origin") == ORIGIN
    evil = dict(pre, Origin="https://evil.example.com")
    status, _, headers = server.request("OPTIONS", SERVICE, headers=evil)
    assert status == 400 and "access-control-allow-origin" not in {k.lower() for k in headers}


# --------------------------------------------------------------------------------- privacy


def test_no_patient_data_in_the_server_output(server):
    """A distinctive patient id, value, token and comment go through every path; none reaches the log."""
    pid, value, token, word = "ZqX7-distinct-4417", 8431.77, "tok-distinct-9931", "Zebulon-Quaxley"
    fhir = FhirServer(pid, token)
    try:
        obs = [observation("2276-4", value, "ng/mL", patient=pid), observation("777-3", 99, "10*9/L", patient=pid)]
        body = call_body(obs, patient=pid, conditions=[condition(ICD10CM, "M08.20", patient=pid)])
        body["prefetch"]["patient"]["name"] = [{"family": word}]
        screen(server, body)
        # missing prefetch fetched with the token (the FHIR URL names the patient)
        fetch = call_body(obs, patient=pid)
        fetch["prefetch"] = {"ferritin": fetch["prefetch"]["ferritin"]}
        fetch.update(fhirServer=fhir.base, fhirAuthorization={"access_token": token})
        screen(server, fetch)
        # errors of every kind, each carrying the distinctive values
        ehr = server.clients[0]
        raw = json.dumps(body).encode()
        server.request("POST", SERVICE, raw=raw[:-5], token=ehr.token(server.url(SERVICE)))
        server.request(
            "POST", SERVICE, raw=raw, token=ehr.token(server.url(SERVICE)), headers={"Content-Type": "text/plain"}
        )
        server.request("POST", SERVICE + f"?patient={pid}&name={word}", body)
        server.request("POST", f"/cds-services/{pid}", body, token=ehr.token(server.url(f"/cds-services/{pid}")))
        bad = dict(body, context={"patientId": pid + "/../x", "name": word})
        server.signed("POST", SERVICE, bad)
        server.signed("POST", SERVICE + "/feedback", {"feedback": [{"card": pid, "outcome": "overridden",
                      "overrideReason": {"userComment": word}}]})  # fmt: skip
    finally:
        fhir.close()
    log = server.log()
    assert "POST /cds-services/mas-screen 200" in log  # the access log is on
    for secret in (pid, str(value), "8431", token, word):
        assert secret not in log, f"{secret!r} found in the server output"


# ------------------------------------------------------------------------- command and flags


def test_insecure_dev_serves_without_a_token_and_warns(tmp_path):
    srv = start_serve_cds(tmp_path, args=("--insecure-dev",))
    try:
        status, data, _ = srv.request("POST", SERVICE, call_body(mas_observations(), conditions=sjia()))
        assert status == 200 and data["cards"][0]["indicator"] == "critical"
        assert "WARNING: --insecure-dev: requests are NOT authenticated" in srv.log()
    finally:
        stop(srv)


def test_insecure_dev_is_refused_off_the_loopback():
    proc = subprocess.run(
        [sys.executable, "-m", "mas_screen", "serve-cds", "--insecure-dev", "--host", "0.0.0.0", "--port", "8799"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--insecure-dev is for local trials only" in proc.stderr


def test_a_broken_config_file_stops_the_start_with_a_message(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("algorithms: [HS256]\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mas_screen", "serve-cds", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "not an asymmetric JWS algorithm" in proc.stderr


def test_services_table_matches_discovery():
    assert SERVICES["mas-screen"]["hook"] == "patient-view"
    assert set(prefetch_templates(10)) == {"patient", "conditions", *criteria().analytes.analytes}
