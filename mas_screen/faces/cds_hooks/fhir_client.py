"""Fetch the prefetch keys the EHR did not send from its FHIR server (CDS Hooks "FHIR Resource Access").

Only with both `fhirServer` and `fhirAuthorization` (a bearer token) in the request, and only to a
server the configuration allows (https; for a configured issuer, one of its `fhir_servers` when it
lists any). Each query is the prefetch template with `{{context.patientId}}` filled in, sent with
`Authorization: Bearer <token>`, `Accept: application/fhir+json`, a timeout, and a bound on the
response size. No redirect is followed (the token must not leave the server it was given for).
Nothing is logged (the URL names the patient).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from mas_screen.faces.cds_hooks.discovery import PATIENT_TOKEN

MAX_PARALLEL = 8


@dataclass
class FetchResult:
    found: dict[str, Any] = field(default_factory=dict)  # key → resource or Bundle
    failed: dict[str, str] = field(default_factory=dict)  # key → reason (no patient data)


def server_allowed(url: str, *, allow_http: bool, allowed_prefixes: list[str]) -> bool:
    if not url.startswith("https://") and not (allow_http and url.startswith("http://")):
        return False
    if allowed_prefixes:
        base = url.rstrip("/") + "/"
        return any(base.startswith(p.rstrip("/") + "/") for p in allowed_prefixes)
    return True


async def _get(client: httpx.AsyncClient, url: str, limit: int) -> Any:
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        size = 0
        chunks = []
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise RuntimeError("response too large")
            chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise RuntimeError("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise RuntimeError("not a FHIR resource")
    if data["resourceType"] == "OperationOutcome":
        raise RuntimeError("the server answered with an OperationOutcome")
    return data


async def fetch_missing(
    server: str,
    token: str,
    templates: dict[str, str],
    patient_id: str,
    *,
    timeout: float,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchResult:
    """GET each template; a key that fails is named in `failed` with a short reason."""
    result = FetchResult()
    base = server.rstrip("/") + "/"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    limits = asyncio.Semaphore(MAX_PARALLEL)
    async with httpx.AsyncClient(
        headers=headers, timeout=httpx.Timeout(timeout), follow_redirects=False, transport=transport
    ) as client:

        async def one(key: str, template: str) -> None:
            url = base + template.replace(PATIENT_TOKEN, quote(patient_id, safe=""))
            async with limits:
                try:
                    result.found[key] = await asyncio.wait_for(_get(client, url, max_bytes), timeout * 2)
                except (TimeoutError, httpx.TimeoutException):
                    result.failed[key] = "timed out"
                except httpx.HTTPError as exc:
                    result.failed[key] = f"connection failed ({type(exc).__name__})"
                except RuntimeError as exc:
                    result.failed[key] = str(exc)

        await asyncio.gather(*(one(k, t) for k, t in templates.items()))
    return result


__all__ = ["FetchResult", "fetch_missing", "server_allowed"]
