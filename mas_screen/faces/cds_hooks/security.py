"""Trusting CDS clients (CDS Hooks 2.0, "Trusting CDS Clients"): every request carries
`Authorization: Bearer <JWT>` signed with the client's private key.

A token is accepted only when all of these hold (anything else is a 401 with no detail):
- header: `alg` is an allowed asymmetric algorithm (never `none`, never HMAC), `kid` present,
  `typ` JWT when given; the key is the one with that `kid` in the JWK Set configured for the
  token's `iss` (an allow-list; a `jku` header is never fetched);
- the signature verifies; `aud` (string or list) contains the URL of the endpoint being called;
- `exp`, `iat`, `jti` and `iss` present; not expired and not issued in the future (with the
  configured clock skew); lifetime (exp − iat) at most `max_token_lifetime_seconds`;
- `jti` not seen before for that issuer while the token is valid (replay), kept in memory until
  its `exp` (bounded; a full cache refuses new tokens rather than forgetting unexpired ones).

The reason for a refusal is returned to the caller for counting, never shown to the client.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from dataclasses import dataclass

import jwt
from jwt import PyJWK

from mas_screen.faces.cds_hooks.config import Issuer, ServiceConfig


class Rejected(Exception):
    """The request is not from a trusted client (the message is a reason code for counters)."""


@dataclass(frozen=True)
class _Key:
    key: PyJWK
    alg: str | None


class ReplayCache:
    """(iss, jti) seen while their token is valid; expired entries are dropped as time passes."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._seen: set[tuple[str, str]] = set()
        self._expiry: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def add(self, iss: str, jti: str, exp: float, now: float) -> None:
        entry = (iss, jti)
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                _, old = heapq.heappop(self._expiry)
                self._seen.discard(old)
            if entry in self._seen:
                raise Rejected("replayed")
            if len(self._seen) >= self.capacity:
                raise Rejected("replay_cache_full")
            self._seen.add(entry)
            heapq.heappush(self._expiry, (exp, entry))

    def __len__(self) -> int:
        return len(self._seen)


class TokenVerifier:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.replay = ReplayCache(config.replay_cache_size)
        self._keys: dict[str, dict[str, _Key]] = {}
        self._issuers: dict[str, Issuer] = {}
        for issuer in config.issuers:
            keys: dict[str, _Key] = {}
            for raw in issuer.jwks["keys"]:  # type: ignore[index]
                if not isinstance(raw, dict) or "kid" not in raw:
                    continue  # CDS Hooks: kid is REQUIRED; a key without one can never be chosen
                if "d" in raw:
                    raise ValueError(
                        f"issuer {issuer.iss!r}: the JWK Set holds a private key; configure public keys only"
                    )
                keys[str(raw["kid"])] = _Key(PyJWK.from_dict(raw), raw.get("alg"))
            self._keys[issuer.iss] = keys
            self._issuers[issuer.iss] = issuer

    @property
    def trusts_anyone(self) -> bool:
        return any(self._keys.values())

    def issuer(self, iss: str) -> Issuer | None:
        return self._issuers.get(iss)

    def verify(self, authorization: str | None, audiences: tuple[str, ...]) -> dict:
        """The verified claims, or Rejected. `audiences`: the URLs this endpoint answers to."""
        if not authorization:
            raise Rejected("missing")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 16_384:
            raise Rejected("malformed")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, json.JSONDecodeError) as exc:
            raise Rejected("malformed") from exc
        alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
        if alg not in self.config.algorithms:
            raise Rejected("algorithm")
        if typ is not None and str(typ).upper() != "JWT":
            raise Rejected("typ")
        iss = unverified.get("iss")
        if not isinstance(iss, str) or iss not in self._keys:
            raise Rejected("issuer")
        found = self._keys[iss].get(str(kid)) if kid is not None else None
        if found is None:
            raise Rejected("kid")
        if found.alg is not None and found.alg != alg:
            raise Rejected("algorithm")
        skew = self.config.clock_skew_seconds
        try:
            claims = jwt.decode(
                token,
                key=found.key.key,
                algorithms=[alg],
                audience=list(audiences),
                issuer=iss,
                leeway=skew,
                options={"require": ["exp", "iat", "jti", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Rejected("expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise Rejected("audience") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Rejected("issued_in_future") from exc
        except jwt.PyJWTError as exc:
            raise Rejected("signature_or_claims") from exc
        now = time.time()
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise Rejected("signature_or_claims")
        if iat > now + skew:
            raise Rejected("issued_in_future")
        if exp - iat > self.config.max_token_lifetime_seconds:
            raise Rejected("lifetime")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise Rejected("jti")
        self.replay.add(iss, jti, float(exp) + skew, now)
        return claims


__all__ = ["Rejected", "ReplayCache", "TokenVerifier"]
