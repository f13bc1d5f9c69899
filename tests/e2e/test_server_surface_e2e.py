"""The plain server (./run.sh: `streamlit run serve.py`) shows the network only what it should.

Finding 8 of issue 13 (server surface): /_stcore/metrics was open without login; no X-Frame-Options
or CSP frame-ancestors (another site could frame the app); the error box offered "Ask Google / Ask
ChatGPT" links; /_stcore/host-config listed Streamlit's *.streamlit.app origins.
"""

from __future__ import annotations

import json
import tomllib
import urllib.error
import urllib.request

import pytest

from e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_pages_cannot_be_framed_by_another_site(server):
    """Finding 8: frame-ancestors 'self' and X-Frame-Options on every response."""
    for path in ("/", "/_stcore/health", "/_stcore/host-config"):
        status, headers, _ = get(server + path)
        assert status == 200, path
        assert headers.get("content-security-policy") == "frame-ancestors 'self'", path
        assert headers.get("x-frame-options") == "SAMEORIGIN", path
        assert headers.get("x-content-type-options") == "nosniff", path


def test_the_metrics_endpoint_is_closed(server):
    """Finding 8: /_stcore/metrics is not served (Streamlit has no setting for it; the middleware)."""
    status, _, body = get(server + "/_stcore/metrics")
    assert status == 404 and b"session" not in body


def test_host_config_lists_no_outside_origins(server):
    """Finding 8: no *.streamlit.app origins may steer the app by postMessage."""
    _, _, body = get(server + "/_stcore/host-config")
    assert json.loads(body)["allowedOrigins"] == []


def test_error_links_are_off():
    """Finding 8: client.showErrorLinks = false (no Ask Google / Ask ChatGPT in an error box)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorLinks"] is False
    assert config["client"]["allowedOrigins"] == []
    assert config["browser"]["gatherUsageStats"] is False
