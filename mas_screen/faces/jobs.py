"""Heavy work in a child process, with a memory and time budget, progress and cancel.

One Streamlit server process serves every session on it, and Python runs one thread at a time: a
cohort screened in the server's own process (or a file decoded there) stalls every bedside session
until it finishes, and whatever memory the decode took stays with the server. So batch screening
and other jobs longer than a few hundred milliseconds run here instead:

- each job is its own process, forked from a small preloaded "fork server" (multiprocessing's
  forkserver: a clean single-threaded process with pandas, pyarrow and the engine already
  imported, so a job starts in ~50 ms instead of ~1.5 s, and never forks the threaded server);
- the child lowers its priority (nice 10: a bedside click wins the CPU), caps its address space
  (RLIMIT_AS: an allocation over the budget fails with MemoryError instead of growing the
  server), its CPU time (RLIMIT_CPU) and its wall time (alarm), and dies with its parent;
- input goes down a pipe and results come back up it (pickled): nothing is written to disk;
- the parent reads progress messages on a thread; `cancel()` kills the child at once;
- at most `max_running()` jobs run at a time per server process; later ones wait their turn.

The child's memory is returned to the system when it exits, whatever Python's allocator keeps.
A job is a module-level function `fn(payload, report) -> result`, where `report(done, total, text)`
sends progress; it must import nothing from Streamlit.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from typing import Any

# What the fork server imports once for every job (the cohort package loads its modules on first use,
# so its screening module is named here, not the package).
PRELOAD = [
    "mas_screen.faces.jobs",
    "mas_screen.faces.cohort.screen",
    "mas_screen.faces.cohort.files",
    "pandas",
    "pyarrow.parquet",
    "pyarrow.csv",
]
MiB = 1 << 20


@dataclass(frozen=True)
class JobLimits:
    """The budget of one job. Memory is address space on top of the child's start (imports included)."""

    memory_bytes: int = 1536 * MiB
    seconds: float = 600.0  # CPU time (RLIMIT_CPU): the work itself, whatever else the machine runs
    wall_factor: float = 6.0  # wall-clock limit = seconds × this (a busy machine starves a niced job)
    nice: int = 10

    @property
    def wall_seconds(self) -> float:
        return self.seconds * self.wall_factor


class JobFailed(Exception):
    """Raised in a job to end it with a message for the user (no traceback is shown or logged)."""


@dataclass
class Progress:
    done: float = 0.0
    total: float = 0.0
    text: str = "Starting…"

    @property
    def fraction(self) -> float:
        return min(max(self.done / self.total, 0.0), 1.0) if self.total else 0.0


# States: queued → running → done | failed | cancelled | over_memory | over_time
FINISHED = ("done", "failed", "cancelled", "over_memory", "over_time")


@dataclass
class Job:
    """A job's state as the page sees it (updated by the job's reader thread)."""

    label: str
    limits: JobLimits
    state: str = "queued"
    progress: Progress = field(default_factory=Progress)
    result: Any = None
    message: str = ""  # why it failed, in words for the user
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.state not in FINISHED

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def cancel(self) -> None:
        """Stop the job: a queued job never starts, a running child is killed."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job has finished (any way)."""
        return self._done.wait(timeout)

    def take_result(self) -> Any:
        """The result, dropped from the job (so only the caller holds it)."""
        result, self.result = self.result, None
        return result


# ------------------------------------------------------------------------------------- parent side

_context = None
_slots: threading.BoundedSemaphore | None = None
_lock = threading.Lock()


def max_running() -> int:
    """Jobs at once per server process: one core is kept for the pages (at least one job)."""
    return max(1, (os.cpu_count() or 1) - 1)


def _ctx():
    global _context, _slots
    with _lock:
        if _context is None:
            # Arrow's bundled mimalloc reserves a 1 GiB arena of address space it never touches; under
            # the job's RLIMIT_AS cap that alone refused a 100,000-row cohort using ~350 MB of RSS.
            # The fork server (and so every job) reads this before it imports pyarrow; the server
            # process has pyarrow loaded already, so it is unaffected.
            os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(PRELOAD)
            _slots = threading.BoundedSemaphore(max_running())
        return _context


def warm_up() -> None:
    """Start the fork server now (on a thread), so the first job does not wait ~1.5 s for its imports."""

    def start() -> None:
        _ctx()
        with contextlib.suppress(Exception):
            forkserver.ensure_running()

    threading.Thread(target=start, name="mas-jobs-warm-up", daemon=True).start()


_warmed = False


def warm_up_once() -> None:
    """warm_up() the first time a page that runs jobs is shown in this process."""
    global _warmed
    if not _warmed:
        _warmed = True
        warm_up()


def start(
    fn: Callable[[Any, Callable[..., None]], Any], payload: Any, *, label: str, limits: JobLimits, queued: bool = True
) -> Job:
    """Run fn(payload, report) in a child process; returns at once with the Job to watch.

    `queued=False` for short jobs a user waits on (an export): they do not wait for a slot behind
    long cohort screens (still at low priority, with their own limits)."""
    ctx = _ctx()
    job = Job(label=label, limits=limits)
    thread = threading.Thread(
        target=_supervise,
        args=(weakref.ref(job), job._cancel, job._done, ctx, fn, payload, limits, queued),
        daemon=True,
    )
    thread.name = f"mas-job-{label}"
    thread.start()
    return job


def _update(ref: weakref.ref, **changes: Any) -> None:
    job = ref()
    if job is not None:
        for key, value in changes.items():
            setattr(job, key, value)


def _supervise(ref, cancel: threading.Event, done: threading.Event, ctx, fn, payload, limits, queued) -> None:
    """Wait for a slot, start the child, feed it, read its messages, enforce time and cancel."""
    assert _slots is not None
    try:
        if not queued:
            _run_child(ref, cancel, ctx, fn, payload, limits)
            return
        while not _slots.acquire(timeout=0.2):
            if cancel.is_set() or ref() is None:
                _update(ref, state="cancelled", message="Cancelled before it started.")
                return
        try:
            _run_child(ref, cancel, ctx, fn, payload, limits)
        finally:
            _slots.release()
    except Exception as exc:  # the supervisor never takes the server down; the page says it failed
        _update(ref, state="failed", message=f"The job could not be run ({type(exc).__name__}).")
    finally:
        _update(ref, finished=time.monotonic())
        done.set()


class _Popen(popen_forkserver.Popen):
    """The fork server's Popen, minus one thing: the child does not re-run the parent's __main__.

    multiprocessing tells each child to import the parent's main module first; in a Streamlit server
    (and under AppTest) that is the page script itself, which must never run in a job. Jobs are
    module-level functions, so the child needs nothing from __main__.
    """

    def _launch(self, process_obj):  # popen_forkserver.Popen._launch (3.11) without init_main_*
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


def _run_child(ref, cancel: threading.Event, ctx, fn, payload, limits: JobLimits) -> None:
    parent, child = ctx.Pipe(duplex=True)
    process = _Process(target=_child_main, args=(fn, child, limits, os.getpid()), daemon=True, name="mas-job")
    process.start()
    child.close()
    _update(ref, state="running", started=time.monotonic())
    deadline = time.monotonic() + limits.wall_seconds + 5  # the child's own alarm fires first
    outcome: tuple | None = None
    try:
        parent.send(payload)
        del payload
        while True:
            if cancel.is_set() or ref() is None:
                _kill(process)
                _update(ref, state="cancelled", message="Cancelled: the job was stopped and nothing was kept.")
                return
            if time.monotonic() > deadline:
                _kill(process)
                _update(ref, state="over_time", message=_over_time(limits))
                return
            try:
                ready = parent.poll(0.1)
            except OSError:
                ready = True
            if not ready:
                if not process.is_alive() and not parent.poll(0):
                    break
                continue
            try:
                message = parent.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "progress":
                _update(ref, progress=Progress(*message[1:]))
            else:
                outcome = message
                break
    finally:
        parent.close()
        process.join(timeout=5)
        if process.is_alive():
            _kill(process)
    code = process.exitcode
    if outcome is not None and outcome[0] == "done":
        _update(ref, state="done", result=outcome[1], progress=Progress(1, 1, "Done"))
    elif outcome is not None and outcome[0] == "failed":
        _update(ref, state=outcome[1], message=outcome[2])
    elif code in (-signal.SIGALRM, -signal.SIGXCPU):
        _update(ref, state="over_time", message=_over_time(limits))
    elif code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
        # Native code (Arrow, numpy) that cannot allocate under the address-space cap aborts.
        _update(ref, state="over_memory", message=_over_memory(limits))
    else:  # killed from outside (the kernel's OOM killer, an operator) or crashed
        _update(ref, state="failed", message=f"The job stopped unexpectedly (exit status {code}); nothing was kept.")


def _kill(process) -> None:
    with contextlib.suppress(Exception):
        process.kill()
        process.join(timeout=5)


def _over_time(limits: JobLimits) -> str:
    return (
        f"Stopped: the job took longer than its limit ({limits.seconds:,.0f} s of CPU time, "
        f"{limits.wall_seconds:,.0f} s in all); nothing was kept."
    )


def _over_memory(limits: JobLimits) -> str:
    return (
        f"Stopped: the job needed more than its memory limit of {limits.memory_bytes / MiB:,.0f} MB; "
        "nothing was kept. Split the file, or use the command line (python -m mas_screen batch)."
    )


def run_and_wait(fn, payload, *, label: str, limits: JobLimits) -> Job:
    """start(..., queued=False) and wait for it (the waiting thread holds no lock: other sessions run)."""
    job = start(fn, payload, label=label, limits=limits, queued=False)
    job.wait()
    return job


# -------------------------------------------------------------------------------------- child side


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_self(limits: JobLimits) -> None:
    """Priority, address space, CPU and wall time of this (child) process; dies with its parent."""
    import resource

    with contextlib.suppress(OSError):
        os.nice(limits.nice)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the fork server
    base = _vm_size()
    if base:
        cap = base + limits.memory_bytes
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = int(limits.seconds) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    signal.alarm(int(limits.wall_seconds) + 1)


def _watch_server(server_pid: int) -> None:
    """End this job when the server that started it is gone (the fork server outlives it while any
    job runs, so PR_SET_PDEATHSIG alone would not end an orphaned job)."""

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(3)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="mas-job-watch", daemon=True).start()


def _child_main(fn, conn, limits: JobLimits, server_pid: int) -> None:
    _limit_self(limits)
    _watch_server(server_pid)
    with contextlib.suppress(Exception):  # Arrow's own allocator reserves address space ahead of use
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
        # One core per job, as max_running() counts them (cores - 1 jobs): Arrow's thread pool would
        # otherwise take every core, the pages' too (another session's headline: 1.33x -> ~1.2x idle).
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    last = [0.0]

    def report(done: float, total: float, text: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or done >= total:
            last[0] = now
            conn.send(("progress", done, total, text))

    try:
        payload = conn.recv()
        result = fn(payload, report)
        del payload
        conn.send(("done", result))
    except MemoryError:
        _send_quietly(conn, ("failed", "over_memory", _over_memory(limits)))
    except JobFailed as exc:
        _send_quietly(conn, ("failed", "failed", str(exc)))
    except Exception as exc:  # never a traceback: it could hold patient data
        text = str(exc).lower()
        if any(word in text for word in ("alloc", "memory", "launch worker thread")):  # Arrow out of memory
            _send_quietly(conn, ("failed", "over_memory", _over_memory(limits)))
        else:
            _send_quietly(conn, ("failed", "failed", f"The job failed ({type(exc).__name__})."))
    finally:
        conn.close()


def _send_quietly(conn, message: tuple) -> None:
    with contextlib.suppress(Exception):
        conn.send(message)


__all__ = [
    "FINISHED",
    "Job",
    "JobFailed",
    "JobLimits",
    "Progress",
    "max_running",
    "run_and_wait",
    "start",
    "warm_up",
    "warm_up_once",
]
