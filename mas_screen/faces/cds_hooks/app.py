"""The web app (FastAPI): discovery, the two services, feedback, a health check.

Request path, outermost first: access log (method, route, status, time: never a body, query string
or patient id) → body-size limit (413) → CORS (configured origins only) → the endpoint: JWT (401
with no detail) → content type (415) → JSON and CDS Hooks shape (400, naming the field) → fetch
what is missing from the EHR's FHIR server → map, assess and card in a worker thread → 200 with
`{"cards": [...]}`. Every error inside an endpoint is caught: no traceback (which could quote
data) reaches the log, only the exception's type.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mas_screen.faces.cds_hooks.config import ServiceConfig
from mas_screen.faces.cds_hooks.discovery import SERVICES, discovery
from mas_screen.faces.cds_hooks.fhir_client import fetch_missing, server_allowed
from mas_screen.faces.cds_hooks.security import Rejected, TokenVerifier
from mas_screen.faces.cds_hooks.service import RequestError, answer, parse_call

log = logging.getLogger("mas_screen.cds")
access_log = logging.getLogger("mas_screen.cds.access")
JSON_TYPES = ("application/json", "application/fhir+json")


# ---------------------------------------------------------------------------------- middleware


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over `limit` bytes: by Content-Length at once, else while it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _plain(send, 413)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except BodyTooLarge:
            if not started:
                await _plain(send, 413)


async def _plain(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


ROUTES = (
    "/cds-services",
    "/healthz",
    *(f"/cds-services/{s}" for s in SERVICES),
    *(f"/cds-services/{s}/feedback" for s in SERVICES),
)


class AccessLog:
    """One line per request: method, known route (or "(other)"), status, milliseconds. No query
    string, no body, no header, no client address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            path = scope.get("path", "")
            route = path if path in ROUTES else "(other)"
            ms = (time.perf_counter() - started) * 1000
            access_log.info("%s %s %d %.1f ms", scope.get("method", "?"), route, status[0], ms)


# ----------------------------------------------------------------------------------------- app


def create_app(config: ServiceConfig, *, insecure_dev: bool = False, public_url: str) -> FastAPI:
    app = FastAPI(title="MAS Screen CDS Hooks", docs_url=None, redoc_url=None, openapi_url=None)
    verifier = TokenVerifier(config)
    counters: Counter[str] = Counter()
    app.state.counters = counters
    app.state.verifier = verifier
    base = public_url.rstrip("/")

    def authorised(request: Request, *paths: str) -> dict | None:
        """The verified claims ({} in insecure-dev), or None after counting the refusal."""
        if insecure_dev:
            return {}
        try:
            return verifier.verify(request.headers.get("authorization"), tuple(base + p for p in paths))
        except Rejected as exc:
            counters[f"rejected_{exc}"] += 1
            log.info("request refused (401): %s", exc)
            return None
        except Exception as exc:  # a key or token that the library cannot handle
            counters["rejected_error"] += 1
            log.warning("token check failed (401): %s", type(exc).__name__)
            return None

    def unauthorised() -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})

    def bad(message: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def read_json(request: Request) -> Any:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in JSON_TYPES:
            raise _Status(415, "the request must be JSON (Content-Type: application/json)")
        raw = await request.body()
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
            raise _Status(400, "the request body is not JSON") from exc

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/cds-services")
    async def services(request: Request) -> Response:
        if authorised(request, "/cds-services") is None:
            return unauthorised()
        return JSONResponse(discovery(config.observation_count))

    @app.post("/cds-services/{service_id}")
    async def call(service_id: str, request: Request) -> Response:
        if service_id not in SERVICES:
            return bad("no such service", 404)
        claims = authorised(request, f"/cds-services/{service_id}")
        if claims is None:
            return unauthorised()
        try:
            body = await read_json(request)
            parsed = parse_call(body, service_id, config.observation_count)
            failures: list[str] = []
            if parsed.missing_keys and parsed.fhir_server and parsed.access_token:
                failures = await _complete(parsed, claims)
            outcome = await anyio.to_thread.run_sync(
                lambda: answer(
                    parsed, window_hours=config.window_hours, bedside_url=config.bedside_url, fetch_failures=failures
                )
            )
        except _Status as exc:
            return bad(exc.message, exc.status)
        except RequestError as exc:
            counters["bad_request"] += 1
            return bad(str(exc))
        except BodyTooLarge:
            raise
        except Exception as exc:  # never a traceback in the log: it could quote patient data
            counters["error"] += 1
            log.error("service call failed: %s", type(exc).__name__)
            return bad("internal error", 500)
        counters[f"cards_{len(outcome.cards)}"] += 1
        for card in outcome.cards:
            counters[f"indicator_{card['indicator']}"] += 1
        return JSONResponse({"cards": outcome.cards})

    async def _complete(parsed, claims: dict) -> list[str]:
        """Fetch the missing prefetch keys into parsed.prefetch; the keys that failed."""
        issuer = verifier.issuer(str(claims.get("iss"))) if claims else None
        allowed = server_allowed(
            parsed.fhir_server,
            allow_http=config.fhir_allow_http or insecure_dev,
            allowed_prefixes=list(issuer.fhir_servers) if issuer else [],
        )
        if not allowed:
            counters["fhir_server_refused"] += 1
            return list(parsed.missing_keys)
        from mas_screen.faces.cds_hooks.discovery import prefetch_templates

        templates = prefetch_templates(config.observation_count)
        result = await fetch_missing(
            parsed.fhir_server,
            parsed.access_token,
            {k: templates[k] for k in parsed.missing_keys},
            parsed.patient_id,
            timeout=config.fhir_timeout_seconds,
            max_bytes=config.fhir_max_response_bytes,
        )
        parsed.prefetch = {**parsed.prefetch, **result.found}
        parsed.missing_keys = [k for k in parsed.missing_keys if k not in result.found]
        counters["fhir_fetched"] += len(result.found)
        counters["fhir_failed"] += len(result.failed)
        parsed.missing_keys = [k for k in parsed.missing_keys if k not in result.failed]
        return sorted(result.failed)

    @app.post("/cds-services/{service_id}/feedback")
    async def feedback(service_id: str, request: Request) -> Response:
        if service_id not in SERVICES:
            return bad("no such service", 404)
        paths = (f"/cds-services/{service_id}/feedback", f"/cds-services/{service_id}")
        if authorised(request, *paths) is None:
            return unauthorised()
        try:
            body = await read_json(request)
        except _Status as exc:
            return bad(exc.message, exc.status)
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return bad("'feedback' must be a list")
        outcomes: Counter[str] = Counter()
        for item in items:
            outcome = item.get("outcome") if isinstance(item, dict) else None
            outcome = outcome if outcome in ("accepted", "overridden") else "other"
            outcomes[outcome] += 1
            reason = ((item.get("overrideReason") or {}).get("reason") or {}) if isinstance(item, dict) else {}
            code = reason.get("code") if isinstance(reason, dict) else None
            known = {r["code"] for r in _override_codes()}
            if outcome == "overridden" and code in known:
                outcomes[f"reason:{code}"] += 1
        counters.update({f"feedback_{k}": v for k, v in outcomes.items()})
        log.info("feedback (%s): %s", service_id, ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "empty")
        return JSONResponse({"received": len(items)})

    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(config.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(AccessLog)
    return app


def _override_codes() -> list[dict]:
    from mas_screen.faces.cds_hooks.rules import cds_data

    return [{"code": r.code} for r in cds_data().override_reasons]


class _Status(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


__all__ = ["AccessLog", "BodyLimit", "create_app"]
