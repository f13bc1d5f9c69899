"""Pages first: cohort jobs pause while a page answers in this server process.

A job at the lowest priority still slows a bedside rerun on a small machine: it shares the caches and
memory bandwidth the interpreter and the browser live on. So while any page script runs here, and for
GRACE_S after the last one ends (the browser drawing the answer), every registered job is stopped
(SIGSTOP), then continued (SIGCONT).

Jobs are never starved: one pause lasts at most MAX_PAUSE_S, and after any pause the jobs run at least
as long as they were paused before they can be paused again (at most half the wall time goes to
pauses; a job's wall-clock limit allows six times its CPU time). Cancel still ends a stopped job at
once (SIGKILL reaches a stopped process). Fragment reruns (the Batch page's progress panel) do not run
the page script and never pause anything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

MAX_PAUSE_S = 1.5
GRACE_S = 0.3

_lock = threading.Lock()
_pids: set[int] = set()
_active = 0  # page scripts running now
_paused_at: float | None = None
_limit: threading.Timer | None = None  # ends a pause at MAX_PAUSE_S
_grace: threading.Timer | None = None  # ends a pause GRACE_S after the last page run
_no_pause_before = 0.0
paused_seconds = 0.0  # total time jobs spent stopped in this process (for the benchmark)


def register(pid: int) -> None:
    """A job that yields to pages (cohort screening); started during a pause, it runs on."""
    with _lock:
        _pids.add(pid)


def unregister(pid: int) -> None:
    with _lock:
        _pids.discard(pid)
        if _paused_at is not None:
            _signal(pid, signal.SIGCONT)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _timer(seconds: float, name: str) -> threading.Timer:
    timer = threading.Timer(seconds, _resume_from_timer)
    timer.daemon = True
    timer.name = name
    timer.start()
    return timer


def _pause() -> None:
    global _paused_at, _limit
    _paused_at = time.monotonic()
    for pid in _pids:
        _signal(pid, signal.SIGSTOP)
    _limit = _timer(MAX_PAUSE_S, "mas-jobs-pause-limit")


def _resume() -> None:
    global _paused_at, _limit, _grace, _no_pause_before, paused_seconds
    for timer in (_limit, _grace):
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
    _limit = _grace = None
    if _paused_at is None:
        return
    now = time.monotonic()
    for pid in _pids:
        _signal(pid, signal.SIGCONT)
    paused_seconds += now - _paused_at
    _no_pause_before = now + (now - _paused_at)
    _paused_at = None


def _resume_from_timer() -> None:
    with _lock:
        _resume()


@contextlib.contextmanager
def page_run() -> Iterator[None]:
    """Wrap one page script run: registered jobs are stopped during it (within the limits above)."""
    global _active, _grace
    with _lock:
        _active += 1
        if _grace is not None:  # a run within the grace of the last one: the pause goes on
            _grace.cancel()
            _grace = None
        if _pids and _paused_at is None and time.monotonic() >= _no_pause_before:
            _pause()
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _paused_at is not None:
                _grace = _timer(GRACE_S, "mas-jobs-pause-grace")


def paused() -> bool:
    """True while jobs are stopped (for tests)."""
    with _lock:
        return _paused_at is not None
