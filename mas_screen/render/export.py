"""Exports of a screen: the assessment as JSON, a figure as a static PNG (kaleido, with a start and
render watchdog so a stuck browser never hangs the app), and the print sizing of the lab figure."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import threading
import time
from typing import Any

from mas_screen.domain.models import (
    Assessment,
    PatientInput,
)

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------ JSON


def assessment_json(assessment: Assessment, patient: PatientInput | None = None) -> bytes:
    """The contract JSON of an assessment (plus the input under "input"), UTF-8 and indented."""
    data: dict[str, Any] = assessment.model_dump(mode="json")
    if patient is not None:
        data["input"] = patient.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


# ------------------------------------------------------------------------------------------- PNG

# One kaleido browser per process: starting Chromium costs ~1.5–2.5 s, a render on a warm server
# ~0.2–0.5 s (the full-panel figure). MathJax off: kaleido would fetch it from a CDN, which stalls
# on a closed network.
START_TIMEOUT_S = 30.0  # browser start plus first image
RENDER_TIMEOUT_S = 20.0  # one image on a running server (kaleido's own limit is set below it)
KALEIDO_RENDER_TIMEOUT_S = 15.0

_png_lock = threading.Lock()
_png_state: dict[str, bool] = {"started": False, "failed": False, "atexit": False}


def _server_thread() -> threading.Thread | None:
    """kaleido's server thread (private attribute; None if kaleido changes its internals)."""
    import kaleido

    server = getattr(kaleido, "_global_server", None)
    return getattr(server, "_thread", None) if server is not None else None


def stop_png_server() -> None:
    """Stop the kaleido browser (registered atexit) and allow a fresh start on the next call."""
    with _png_lock:
        _stop_locked()
        _png_state["failed"] = False


def _stop_locked() -> None:
    if not _png_state["started"]:
        return
    _png_state["started"] = False
    thread = _server_thread()
    if thread is not None and thread.is_alive() and _png_state["failed"]:
        # A hung browser: stopping would join its thread forever, so leave the daemon thread
        # behind and mark kaleido's server closed so its own atexit hook does not wait on it.
        import kaleido

        server = getattr(kaleido, "_global_server", None)
        if server is not None:
            server._initialized = False
        return
    try:
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
    except Exception:  # pragma: no cover - best effort at shutdown
        log.debug("kaleido server did not stop cleanly", exc_info=True)


def _ensure_server() -> None:
    import kaleido

    server = getattr(kaleido, "_global_server", None)
    if _png_state["started"] and (server is None or server.is_running()):
        return  # (someone else may have stopped kaleido's server: then start it again)
    # Private by default: kaleido's Chromium (choreographer) has no --disable-background-networking,
    # and was seen making a DNS query from the server during the privacy e2e test. A proxy on a closed
    # loopback port leaves it no way off the machine (figures need nothing from the network).
    os.environ.setdefault("CHOREO_PROXY_SERVER", "127.0.0.1:9")
    kaleido.start_sync_server(mathjax=False, silence_warnings=True, timeout=KALEIDO_RENDER_TIMEOUT_S)
    _png_state["started"] = True
    if not _png_state["atexit"]:
        atexit.register(stop_png_server)
        _png_state["atexit"] = True


def _render_with_watchdog(fig_dict: dict, opts: dict, deadline_s: float) -> bytes | None:
    """Render in a helper thread so that a dead or hung browser costs a timeout, never a hang.

    kaleido's sync server blocks forever when its browser failed to start (the request waits on
    a queue nobody serves), so the caller waits on the helper with a deadline and watches the
    server thread.
    """
    import kaleido

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["png"] = kaleido.calc_fig_sync(fig_dict, opts=opts)
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc

    helper = threading.Thread(target=work, name="mas-screen-png", daemon=True)
    helper.start()
    end = time.monotonic() + deadline_s
    while helper.is_alive():
        helper.join(0.05)
        server = _server_thread()
        if helper.is_alive() and server is not None and not server.is_alive():
            log.warning("static image export unavailable: the kaleido browser did not start")
            _png_state["failed"] = True
            _png_state["started"] = False
            with contextlib.suppress(Exception):  # the server thread is dead: closing cannot block
                kaleido.stop_sync_server(silence_warnings=True)
            return None
        if time.monotonic() > end:
            log.warning("static image export timed out after %.0f s", deadline_s)
            _png_state["failed"] = True
            _stop_locked()
            return None
    if "error" in box:
        log.warning("static image export failed: %s", type(box["error"]).__name__)
        return None
    png = box.get("png")
    return png if isinstance(png, bytes | bytearray) else None


def figure_png(fig: Any, *, scale: float = 2) -> bytes | None:
    """PNG bytes of a plotly figure, or None when Chromium/kaleido is unavailable or too slow.

    Never raises: the PDF is still useful without its figure. After a failed start the process
    does not retry (a missing browser should cost one timeout, not one per click); call
    `stop_png_server()` to allow a retry.
    """
    with _png_lock:
        if _png_state["failed"]:
            return None
        try:
            fresh = not _png_state["started"]
            _ensure_server()
            fig_dict = fig.to_dict() if hasattr(fig, "to_dict") else dict(fig)
            layout = fig_dict.get("layout", {})
            opts = {
                "format": "png",
                "width": layout.get("width") or 1000,
                "height": layout.get("height") or 600,
                "scale": scale,
            }
            png = _render_with_watchdog(fig_dict, opts, START_TIMEOUT_S if fresh else RENDER_TIMEOUT_S)
            return bytes(png) if png is not None else None
        except Exception as exc:
            log.warning("static image export unavailable: %s", type(exc).__name__)
            _png_state["failed"] = True
            return None


# The printed figure is laid out at this width and placed at the A4 text width (184 mm), so one
# layout pixel prints at 0.224 mm = 0.64 pt: the figure's smallest font (13 px) prints at 8.3 pt.
# Long panels are split into chunks of rows, each a page at most; never shrunk below this scale.
PRINT_FIGURE_WIDTH_PX = 820
PRINT_PAGE_ROOM_MM = 297.0 - 12 - 14 - 12  # A4 height minus margins and the figure's heading


def print_scale_pt_per_px(width_px: float = PRINT_FIGURE_WIDTH_PX) -> float:
    """Printed points per layout pixel of a figure of `width_px` placed at the A4 text width."""
    return (210.0 - 2 * 13.0) / width_px / (25.4 / 72)


PRINT_MM_PER_PX = (210.0 - 2 * 13.0) / PRINT_FIGURE_WIDTH_PX


def _print_rows(patient: PatientInput) -> list[str]:
    from mas_screen.kernel.inputs.facts import normalise
    from mas_screen.render.figures.kit import used_analytes

    facts, _ = normalise(patient)
    return [a for a in used_analytes() if a in facts.labs]


def _print_figure(patient: PatientInput, assessment: Assessment, rows: list[str]) -> Any:
    from mas_screen.render.figures.labs import lab_threshold_figure

    return lab_threshold_figure(patient, assessment, width=PRINT_FIGURE_WIDTH_PX, only=rows)


def _print_height_mm(fig: Any) -> float:
    return (fig.layout.height or 0) * PRINT_MM_PER_PX


def print_chunks(patient: PatientInput, assessment: Assessment, first_room_mm: float) -> list[list[str]]:
    """The lab rows in print chunks: the first fills `first_room_mm` (the rest of the current
    page), each later one a page at most; a row that would not fit starts the next chunk."""
    chunks: list[list[str]] = []
    room = first_room_mm
    for row in _print_rows(patient):
        if chunks and _print_height_mm(_print_figure(patient, assessment, [*chunks[-1], row])) <= room:
            chunks[-1].append(row)
            continue
        if chunks or _print_height_mm(_print_figure(patient, assessment, [row])) > room:
            room = PRINT_PAGE_ROOM_MM  # this chunk starts a page
            if not chunks:
                chunks.append([])  # nothing fits here: the first chunk is empty
        chunks.append([row])
    return chunks


def print_figures(patient: PatientInput, assessment: Assessment) -> list[Any]:
    """The lab figure for print: rows in chunks that each fit a page at the legible print scale."""
    return [_print_figure(patient, assessment, c) for c in print_chunks(patient, assessment, PRINT_PAGE_ROOM_MM) if c]
