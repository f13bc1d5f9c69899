"""What the server shows the network besides the app: security headers, no metrics endpoint.

An ASGI middleware for the Streamlit server (serve.py wraps app.py in st.App with it), so the plain
`./run.sh` server and every worker of the ward deployment behave the same even without the proxy:

- `Content-Security-Policy: frame-ancestors 'self'` and `X-Frame-Options: SAMEORIGIN`: another
  site cannot frame the app (clickjacking a clinician into entering or changing values);
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
- `/_stcore/metrics` answers 404: Streamlit's metrics (session counts, memory) are not for the
  network, and it has no setting to turn them off.

Error links ("Ask Google / Ask ChatGPT") and the postMessage origins listed by /_stcore/host-config
are Streamlit settings (.streamlit/config.toml: client.showErrorLinks = false, client.allowedOrigins
= []). deploy/nginx.conf.template repeats all of this at the proxy.
"""

from __future__ import annotations

SECURITY_HEADERS = (
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
BLOCKED_SUFFIXES = ("/_stcore/metrics",)


class ServerSurface:
    """Pure ASGI middleware (websockets pass through untouched)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "").rstrip("/")
        if path.endswith(BLOCKED_SUFFIXES):
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [*SECURITY_HEADERS, (b"content-type", b"text/plain")],
                }
            )
            await send({"type": "http.response.body", "body": b"Not found"})
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = ["BLOCKED_SUFFIXES", "SECURITY_HEADERS", "ServerSurface"]
