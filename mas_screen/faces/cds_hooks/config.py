"""The service's configuration (`serve-cds --config FILE`, YAML or JSON) and the issuer allow-list.

Every field has a safe default: without a configuration file the service listens on the loopback
address, trusts no issuer (so every request without --insecure-dev is refused with 401), allows
no cross-origin browser, and puts no link on its cards. docs/cds-hooks.md shows a full file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mas_screen.faces.cds_hooks.rules import cds_data

# RFC 7518 asymmetric algorithms only: CDS Hooks forbids `none` and every symmetric (HMAC) one.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class ConfigError(ValueError):
    """The configuration or the issuers file cannot be used; the service does not start."""


class Issuer(BaseModel):
    """One trusted CDS client: its `iss`, its JWK Set (inline or a file), and optionally the FHIR
    servers the service may call with the bearer token that client sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    iss: str
    jwks: dict[str, Any] | None = None
    jwks_file: str | None = None
    fhir_servers: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_key_source(self) -> Issuer:
        if (self.jwks is None) == (self.jwks_file is None):
            raise ValueError(f"issuer {self.iss!r}: give exactly one of jwks, jwks_file")
        return self


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # The base URL EHRs call (scheme, host, port, any path prefix), as they see it behind any proxy.
    # JWT `aud` must equal this plus the endpoint path. Default: http://<host>:<port>.
    public_url: str | None = None
    # Absolute URL of the bedside page, linked from every card (no patient data in the link).
    bedside_url: str | None = None
    window_hours: float = Field(default_factory=lambda: cds_data().prefetch.window_hours, gt=0, le=24 * 365)
    observation_count: int = Field(default_factory=lambda: cds_data().prefetch.observation_count, gt=0, le=1000)
    issuers_file: str | None = None
    issuers: list[Issuer] = Field(default_factory=list)
    algorithms: list[str] = Field(default_factory=lambda: list(ASYMMETRIC_ALGORITHMS))
    max_token_lifetime_seconds: int = Field(default=600, gt=0, le=3600)
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    replay_cache_size: int = Field(default=200_000, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=5_000_000, gt=1000)
    fhir_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    fhir_max_response_bytes: int = Field(default=10_000_000, gt=1000)
    fhir_allow_http: bool = False  # plain-HTTP FHIR servers (tests, a local sandbox); never in production

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            raise ValueError(f"not an asymmetric JWS algorithm CDS Hooks allows: {', '.join(bad)}")
        return value

    @field_validator("public_url", "bedside_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/") if value else value


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}") from exc


def _message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def load_config(path: str | None) -> ServiceConfig:
    """The configuration file (or the defaults), with the issuers file merged in."""
    raw: Any = {} if path is None else _read(Path(path))
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    base = Path(path).parent if path else Path.cwd()
    try:
        config = ServiceConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_message(exc)}") from exc
    issuers = list(config.issuers)
    if config.issuers_file:
        file = Path(config.issuers_file)
        file = file if file.is_absolute() else base / file
        data = _read(file)
        entries = data.get("issuers") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise ConfigError(f"{file}: expected {{'issuers': [...]}}")
        try:
            issuers += [Issuer.model_validate(e) for e in entries]
        except ValidationError as exc:
            raise ConfigError(f"{file}: {_message(exc)}") from exc
        base_for_keys = file.parent
    else:
        base_for_keys = base
    resolved = []
    for issuer in issuers:
        if issuer.jwks_file is not None:
            key_file = Path(issuer.jwks_file)
            key_file = key_file if key_file.is_absolute() else base_for_keys / key_file
            jwks = _read(key_file)
            issuer = issuer.model_copy(update={"jwks": jwks, "jwks_file": None})
        if not isinstance(issuer.jwks, dict) or not isinstance(issuer.jwks.get("keys"), list):
            raise ConfigError(f"issuer {issuer.iss!r}: the JWK Set must be {{'keys': [...]}}")
        resolved.append(issuer)
    seen = [i.iss for i in resolved]
    if len(set(seen)) != len(seen):
        raise ConfigError("an issuer is listed twice")
    return config.model_copy(update={"issuers": resolved, "issuers_file": None})


__all__ = ["ASYMMETRIC_ALGORITHMS", "ConfigError", "Issuer", "ServiceConfig", "load_config"]
