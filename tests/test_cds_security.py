"""Trusting CDS clients (CDS Hooks 2.0 security): signed JWT against the configured JWK Sets.

Every refusal is a 401 with an empty body and `WWW-Authenticate: Bearer`; the reason is only
counted and logged as a code, never shown to the client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cds_support import call_body, ec_client, rsa_client, start_serve_cds, stop

from mas_screen.faces.cds_hooks.config import ServiceConfig
from mas_screen.faces.cds_hooks.security import Rejected, ReplayCache, TokenVerifier

SERVICE = "/cds-services/mas-screen"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cds-sec")
    ehr, other = ec_client(), rsa_client()
    issuers = tmp / "issuers.json"
    issuers.write_text(
        json.dumps(
            {
                "issuers": [
                    {"iss": ehr.iss, "jwks": {"keys": [ehr.public_jwk()]}},
                    {"iss": other.iss, "jwks_file": "other.jwks"},
                ]
            }
        )
    )
    (tmp / "other.jwks").write_text(json.dumps({"keys": [other.public_jwk()]}))
    srv = start_serve_cds(tmp, config={"issuers_file": str(issuers), "max_token_lifetime_seconds": 600})
    srv.clients = [ehr, other]
    yield srv
    stop(srv)


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def post(server, token: str | None, path: str = SERVICE):
    return server.request("POST", path, call_body([]), token=token)


def assert_refused(result):
    status, data, headers = result
    assert status == 401
    assert data is None  # no detail
    assert headers.get("www-authenticate") == "Bearer"


def test_valid_tokens_from_each_trusted_client(server):
    for client in server.clients:
        status, data, _ = post(server, client.token(server.url(SERVICE)))
        assert status == 200 and data == {"cards": []}


def test_audience_may_be_a_list(server):
    ehr = server.clients[0]
    status, _, _ = post(server, ehr.token([server.url(SERVICE), "https://elsewhere.example.org"]))
    assert status == 200


def test_missing_token(server):
    assert_refused(post(server, None))
    assert_refused(server.request("POST", SERVICE, call_body([]), headers={"Authorization": "Basic dXNlcjpwYXNz"}))


def test_wrong_key(server):
    impostor = ec_client(iss=server.clients[0].iss, kid=server.clients[0].kid)  # same iss and kid, other key
    assert_refused(post(server, impostor.token(server.url(SERVICE))))


def test_expired(server):
    ehr = server.clients[0]
    assert_refused(post(server, ehr.token(server.url(SERVICE), iat_shift=-400, lifetime=300)))


def test_wrong_audience(server):
    ehr = server.clients[0]
    assert_refused(post(server, ehr.token(server.url("/cds-services"))))  # the discovery URL, not the service
    assert_refused(post(server, ehr.token("https://cds.example.org/cds-services/mas-screen")))


def test_replayed(server):
    ehr = server.clients[0]
    token = ehr.token(server.url(SERVICE))
    assert post(server, token)[0] == 200
    assert_refused(post(server, token))
    # the same jti with a fresh signature is a replay too
    assert_refused(
        post(server, ehr.token(server.url(SERVICE), jti=jwt.decode(token, options={"verify_signature": False})["jti"]))
    )


def test_unsigned_alg_none(server):
    ehr = server.clients[0]
    now = int(time.time())
    claims = {"iss": ehr.iss, "aud": server.url(SERVICE), "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    head = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": ehr.kid}).encode())
    body = b64(json.dumps(claims).encode())
    assert_refused(post(server, (head + b"." + body + b".").decode()))


def test_hmac_with_the_public_key_as_secret(server):
    """Algorithm confusion: HS256 signed with the public key's bytes must never verify."""
    ehr = server.clients[0]
    now = int(time.time())
    claims = {"iss": ehr.iss, "aud": server.url(SERVICE), "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    secret = json.dumps(ehr.public_jwk()).encode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": ehr.kid}).encode())
    body = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(secret, head + b"." + body, hashlib.sha256).digest())
    assert_refused(post(server, (head + b"." + body + b"." + signature).decode()))


def test_unknown_issuer_and_kid(server):
    stranger = ec_client(iss="https://unknown.example.org")
    assert_refused(post(server, stranger.token(server.url(SERVICE))))
    ehr = server.clients[0]
    other_kid = ec_client(iss=ehr.iss, kid="not-configured")
    assert_refused(post(server, other_kid.token(server.url(SERVICE))))


def test_claims_required_and_bounded(server):
    ehr = server.clients[0]
    aud = server.url(SERVICE)
    now = int(time.time())
    missing_jti = jwt.encode(
        {"iss": ehr.iss, "aud": aud, "iat": now, "exp": now + 60}, ehr.key, algorithm=ehr.alg, headers={"kid": ehr.kid}
    )
    assert_refused(post(server, missing_jti))
    assert_refused(post(server, ehr.token(aud, lifetime=3600)))  # longer than max_token_lifetime_seconds
    assert_refused(post(server, ehr.token(aud, iat_shift=600)))  # issued in the future
    assert_refused(post(server, "not.a.jwt"))


def test_discovery_and_feedback_check_their_own_audience(server):
    ehr = server.clients[0]
    status, _, _ = server.request("GET", "/cds-services", token=ehr.token(server.url("/cds-services")))
    assert status == 200
    assert_refused(server.request("GET", "/cds-services", token=ehr.token(server.url(SERVICE))))
    feedback = SERVICE + "/feedback"
    status, _, _ = server.request("POST", feedback, {"feedback": []}, token=ehr.token(server.url(feedback)))
    assert status == 200


def test_refusals_are_logged_as_codes_only(server):
    log = server.log()
    assert "request refused (401): missing" in log and "request refused (401): replayed" in log
    assert "eyJ" not in log  # no token in the log


def test_no_issuers_refuses_everything(tmp_path):
    srv = start_serve_cds(tmp_path)
    try:
        client = ec_client()
        assert_refused(post(srv, client.token(srv.url(SERVICE))))
        assert "no trusted issuers configured" in srv.log()
    finally:
        stop(srv)


# --------------------------------------------------------------------------------- in process


def test_replay_cache_forgets_expired_tokens_and_is_bounded():
    cache = ReplayCache(capacity=2)
    cache.add("i", "a", exp=100, now=50)
    with pytest.raises(Rejected, match="replayed"):
        cache.add("i", "a", exp=100, now=60)
    cache.add("i", "b", exp=200, now=60)
    with pytest.raises(Rejected, match="replay_cache_full"):
        cache.add("i", "c", exp=300, now=70)
    cache.add("i", "c", exp=300, now=150)  # "a" expired and was dropped
    assert len(cache) == 2


def test_a_private_key_in_the_jwks_is_refused():
    ehr = ec_client()
    private = json.loads(jwt.get_algorithm_by_name("ES384").to_jwk(ehr.key))
    private["kid"] = "k"
    config = ServiceConfig.model_validate({"issuers": [{"iss": ehr.iss, "jwks": {"keys": [private]}}]})
    with pytest.raises(ValueError, match="private key"):
        TokenVerifier(config)


def test_symmetric_algorithms_cannot_be_configured():
    with pytest.raises(ValueError, match="asymmetric"):
        ServiceConfig.model_validate({"algorithms": ["HS256"]})
