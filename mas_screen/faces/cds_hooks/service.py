"""One service call, without HTTP: validate the request body, find what is missing, map, assess, card.

Kept apart from the web app so that tests, the benchmark and the property test run the same path
as the server. Errors a client can fix raise RequestError (400) with a message that names the field,
never a value from the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mas_screen import assess
from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import Assessment
from mas_screen.faces.cds_hooks.cards import CardContext, Trigger, cards_for
from mas_screen.faces.cds_hooks.discovery import SERVICES, prefetch_templates
from mas_screen.faces.cds_hooks.mapping import Mapped, PrefetchError, map_prefetch
from mas_screen.faces.cds_hooks.rules import cds_data

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
LOINC = "http://loinc.org"


class RequestError(ValueError):
    """The request body is not a CDS Hooks call this service can answer (400)."""


@dataclass
class Call:
    service_id: str
    hook: str
    hook_instance: str
    patient_id: str
    prefetch: dict[str, Any]
    draft_orders: dict | None
    fhir_server: str | None
    access_token: str | None
    missing_keys: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    cards: list[dict]
    assessment: Assessment
    mapped: Mapped


def parse_call(body: Any, service_id: str, observation_count: int) -> Call:
    """The fields this service reads, checked; RequestError names what is wrong."""
    if service_id not in SERVICES:
        raise LookupError(service_id)
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    hook = body.get("hook")
    expected = SERVICES[service_id]["hook"]
    if hook != expected:
        raise RequestError(f"this service answers the {expected} hook ('hook' must be {expected!r})")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance or len(instance) > 200:
        raise RequestError("'hookInstance' must be a non-empty string")
    context = body.get("context")
    if not isinstance(context, dict):
        raise RequestError("'context' must be an object")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not FHIR_ID.fullmatch(patient_id):
        raise RequestError("'context.patientId' must be a FHIR id (letters, digits, '-', '.'; up to 64)")
    draft = context.get("draftOrders")
    if hook == "order-sign" and not (isinstance(draft, dict) and draft.get("resourceType") == "Bundle"):
        raise RequestError("'context.draftOrders' must be a FHIR Bundle for the order-sign hook")
    prefetch = body.get("prefetch", {})
    if prefetch is None:
        prefetch = {}
    if not isinstance(prefetch, dict):
        raise RequestError("'prefetch' must be an object")
    server, token = body.get("fhirServer"), None
    auth = body.get("fhirAuthorization")
    if auth is not None:
        if not isinstance(auth, dict) or not isinstance(auth.get("access_token"), str):
            raise RequestError("'fhirAuthorization.access_token' must be a string")
        if not isinstance(server, str):
            raise RequestError("'fhirServer' is required with 'fhirAuthorization'")
        token = auth["access_token"]
    if server is not None and not isinstance(server, str):
        raise RequestError("'fhirServer' must be a URL")
    templates = prefetch_templates(observation_count)
    missing = [k for k in templates if k not in prefetch]
    return Call(service_id, hook, instance, patient_id, prefetch, draft, server, token, missing)


def triggers(draft: dict | None) -> list[Trigger]:
    """The draft orders that make the order-sign service screen (criteria/cds_hooks.yaml)."""
    if not isinstance(draft, dict):
        return []
    data = cds_data().order_triggers
    analytes = criteria().analytes.analytes
    by_loinc = {code: key for key in data.analytes for code in analytes[key].loinc}
    found: dict[str, Trigger] = {}
    for entry in draft.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "ServiceRequest":
            continue
        if resource.get("status") in ("revoked", "entered-in-error", "completed"):
            continue
        codings = (resource.get("code") or {}).get("coding") if isinstance(resource.get("code"), dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, dict):
                continue
            system, code = coding.get("system"), coding.get("code")
            if system == LOINC and code in by_loinc:
                key = by_loinc[code]
                found.setdefault(key, Trigger(key, analytes[key].label.lower(), (key,)))
            for proc in data.procedures:
                if system == proc.system and code in proc.codes:
                    found.setdefault(proc.id, Trigger(proc.id, proc.label, ("hemophagocytosis_marrow",)))
    return list(found.values())


def answer(
    call: Call,
    *,
    window_hours: float,
    bedside_url: str | None,
    fetch_failures: list[str] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Map the (completed) prefetch, assess, and make the cards."""
    try:
        mapped = map_prefetch(call.prefetch, call.patient_id, window_hours=window_hours, now=now)
    except PrefetchError as exc:
        raise RequestError(str(exc)) from exc
    assessment = assess(mapped.patient)
    ctx = CardContext(
        hook=call.hook,
        assessment=assessment,
        mapped=mapped,
        triggers=triggers(call.draft_orders) if call.hook == "order-sign" else [],
        missing_keys=list(call.missing_keys),
        fetch_failures=list(fetch_failures or []),
        bedside_url=bedside_url,
    )
    return Outcome(cards_for(ctx), assessment, mapped)


__all__ = ["Call", "Outcome", "RequestError", "answer", "parse_call", "triggers"]
