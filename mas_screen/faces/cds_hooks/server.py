"""`python -m mas_screen serve-cds`: run the CDS Hooks app under uvicorn with privacy-safe logging.

uvicorn's own access log is off (it prints the request line, query string included); the app's
access log prints method, route, status and time only. httpx/httpcore loggers are kept at WARNING
(their INFO lines name the FHIR URL, which names the patient). `--insecure-dev` skips the JWT
check, prints a warning on every start, and is refused on any address but the loopback.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.config
import sys

from mas_screen.faces.cds_hooks.config import ConfigError, load_config

INSECURE_BANNER = """
************************************************************************************
*  WARNING: --insecure-dev: requests are NOT authenticated (no signed JWT needed). *
*  For local trials with synthetic data only, on this machine. Never point an EHR  *
*  or real patient data at this service while the flag is on.                     *
************************************************************************************
"""

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "mas_screen.cds": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "httpx": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "httpcore": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_public_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def serve(*, host: str, port: int, insecure_dev: bool, config_path: str | None) -> int:
    import uvicorn

    from mas_screen.faces.cds_hooks.app import create_app

    config = load_config(config_path)
    if insecure_dev and not is_loopback(host):
        raise ConfigError("--insecure-dev is for local trials only: listen on 127.0.0.1, ::1 or localhost")
    if not 0 < port < 65536:
        raise ConfigError(f"port {port} is not a TCP port")
    logging.config.dictConfig(LOG_CONFIG)
    log = logging.getLogger("mas_screen.cds")
    public_url = config.public_url or default_public_url(host, port)
    if insecure_dev:
        sys.stderr.write(INSECURE_BANNER)
        sys.stderr.flush()
    elif not config.issuers:
        log.warning("no trusted issuers configured: every request will be refused (401); see docs/cds-hooks.md")
    app = create_app(config, insecure_dev=insecure_dev, public_url=public_url)
    log.info(
        "MAS Screen CDS Hooks service at %s/cds-services (JWT %s; %d trusted issuer(s); window %s h)",
        public_url,
        "OFF (insecure-dev)" if insecure_dev else "required",
        len(config.issuers),
        config.window_hours,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=LOG_CONFIG,
        server_header=False,
        date_header=True,
        proxy_headers=False,
    )
    return 0


__all__ = ["ConfigError", "is_loopback", "serve"]
