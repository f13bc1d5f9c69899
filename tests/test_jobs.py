"""mas_screen.faces.jobs: heavy work in a child process with a memory and time budget, progress and cancel.

Finding 9 of issue 13 (heavy work stalls every session): these prove the work runs in another
process, that its progress is seen, that cancel and the budgets kill it and say so.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import job_fixtures
import pytest

from mas_screen.faces import jobs

WAIT = 300  # seconds; only bounds a hung job (each wait returns as soon as the job ends)


def test_work_runs_in_another_process_and_data_goes_by_pipe():
    """Finding 9: the work is not done in the calling (server) process."""
    job = jobs.start(job_fixtures.pid, b"x" * 3_000_000, label="pid", limits=jobs.JobLimits())
    assert job.wait(WAIT)
    assert job.state == "done", job.message
    child_pid, size = job.take_result()
    assert child_pid != os.getpid()
    assert size == 3_000_000
    assert job.result is None  # taken: only the caller holds it


def test_progress_is_reported_and_cancel_kills_the_job():
    job = jobs.start(job_fixtures.slow, 600.0, label="slow", limits=jobs.JobLimits())
    deadline = time.monotonic() + WAIT
    while job.progress.done < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.running and job.state == "running"
    assert 0 < job.progress.fraction < 1 and job.progress.text.startswith("step ")
    job.cancel()
    assert job.wait(WAIT)
    assert job.state == "cancelled"
    assert "nothing was kept" in job.message
    assert job.result is None


def test_over_memory_is_stopped_and_reported():
    limits = jobs.JobLimits(memory_bytes=128 << 20)
    job = jobs.start(job_fixtures.hungry, 1 << 30, label="hungry", limits=limits)
    assert job.wait(WAIT)
    assert job.state == "over_memory"
    assert "memory limit of 128 MB" in job.message


def test_over_time_is_stopped_and_reported():
    limits = jobs.JobLimits(seconds=1)
    job = jobs.start(job_fixtures.spin, None, label="spin", limits=limits)
    assert job.wait(WAIT)
    assert job.state == "over_time"
    assert f"limit (1 s of CPU time, {limits.wall_factor:g} s in all)" in job.message


def test_wall_time_is_limited_too():
    job = jobs.start(job_fixtures.slow, 600.0, label="sleepy", limits=jobs.JobLimits(seconds=1, wall_factor=2))
    assert job.wait(WAIT)
    assert job.state == "over_time"


def test_a_job_dropped_by_its_session_is_killed():
    """A session that ends (its state garbage-collected) does not leave its job running."""
    job = jobs.start(job_fixtures.slow, 600.0, label="orphan", limits=jobs.JobLimits())
    done = job._done
    del job
    assert done.wait(WAIT)


def test_the_child_runs_at_lower_priority():
    job = jobs.start(job_fixtures.pid, b"", label="nice", limits=jobs.JobLimits(nice=7))
    assert job.wait(WAIT) and job.state == "done"
    # The child is gone; a fresh one reports its own niceness.
    job = jobs.start(os_nice, None, label="nice", limits=jobs.JobLimits(nice=7))
    assert job.wait(WAIT) and job.state == "done"
    assert job.take_result() >= os.nice(0) + 7


def os_nice(payload, report):
    return os.nice(0)


@pytest.mark.parametrize("n", [3])
def test_jobs_beyond_the_slots_wait_their_turn(n):
    limits = jobs.JobLimits()
    started = [jobs.start(job_fixtures.slow, 0.3, label=f"q{i}", limits=limits) for i in range(n + jobs.max_running())]
    for job in started:
        assert job.wait(WAIT)
        assert job.state == "done" and job.take_result() == "finished"


def test_a_job_ends_when_the_server_that_started_it_is_gone(tmp_path):
    """A worker that is killed (or restarted by the ward supervisor) leaves no job running."""
    import subprocess
    import sys

    script = tmp_path / "server.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]\n"
        "import job_fixtures\n"
        "from mas_screen.faces import jobs\n"
        "job = jobs.start(job_fixtures.pid_then_sleep, None, label='orphan', limits=jobs.JobLimits())\n"
        "while job.progress.total == 0: time.sleep(0.05)\n"
        "print(job.progress.text, flush=True)\n"
        "time.sleep(600)\n"
    )
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(server.stdout.readline().split()[-1])
    server.kill()
    server.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(child, 9)
    raise AssertionError("the job outlived its server")


def test_a_cohort_job_is_charged_for_what_it_uses():
    """Issue 13 (measured after the ward work landed): the 100,000-row unit-suffixed cohort, ~350 MB of
    RSS, was stopped as over its 1,536 MB budget, because Arrow's bundled mimalloc reserves a 1 GiB
    arena of address space it never touches and the budget caps address space. Jobs use the system
    allocator: 5,000 such rows (~160 MB of RSS) fit a 768 MB budget."""
    job = jobs.start(job_fixtures.cohort_rows, 5_000, label="cohort", limits=jobs.JobLimits(memory_bytes=768 << 20))
    assert job.wait(WAIT)
    assert job.state == "done", job.message
    assert job.take_result() == (None, 5_000)


def test_jobs_use_the_system_allocator():
    """The control for the finding above: Arrow's mimalloc (a 1 GiB arena of untouched address space,
    reserved on first use, so the small cohort above does not always show it) is not a job's pool."""
    job = jobs.start(job_fixtures.arrow_allocator, None, label="arrow", limits=jobs.JobLimits())
    assert job.wait(WAIT)
    assert job.take_result() == "system"


def test_fork_server_preloads_the_screening_code():
    """The cohort package loads its modules on first use: the fork server must name the screening
    module itself, or every job would import it again (~0.3 s) before its first row."""
    import importlib

    assert "mas_screen.faces.cohort.screen" in jobs.PRELOAD
    for name in jobs.PRELOAD:
        importlib.import_module(name)
