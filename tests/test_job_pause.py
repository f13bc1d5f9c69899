"""Pages first (issue 13, finding 9: another session's headline slowed while a cohort screened):
registered jobs stop while a page answers, and are never starved."""

from __future__ import annotations

import subprocess
import time

import pytest

from mas_screen.faces import job_pause


def state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


def wait_for(check, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while not check() and time.monotonic() < end:
        time.sleep(0.005)
    return check()


@pytest.fixture
def job(monkeypatch):
    monkeypatch.setattr(job_pause, "GRACE_S", 0.05)
    proc = subprocess.Popen(["sleep", "60"])
    job_pause.register(proc.pid)
    yield proc.pid
    job_pause.unregister(proc.pid)
    proc.kill()
    proc.wait()
    assert wait_for(lambda: not job_pause.paused())
    job_pause._no_pause_before = 0.0


def test_a_page_run_stops_a_registered_job_and_continues_it_after_the_grace(job):
    with job_pause.page_run():
        assert job_pause.paused()
        assert wait_for(lambda: state(job) == "T")
        with job_pause.page_run():  # a second session's run at the same time
            pass
        assert job_pause.paused()  # one run still going
    assert job_pause.paused()  # the browser is drawing the answer (GRACE_S)
    assert wait_for(lambda: not job_pause.paused())
    assert wait_for(lambda: state(job) == "S")


def test_a_run_within_the_grace_keeps_the_pause_going(job, monkeypatch):
    monkeypatch.setattr(job_pause, "GRACE_S", 0.5)
    with job_pause.page_run():
        pass
    with job_pause.page_run():  # the next rerun starts before the grace ends: one pause, not two
        time.sleep(0.6)
        assert job_pause.paused()
        assert state(job) == "T"
    assert wait_for(lambda: not job_pause.paused())


def test_a_pause_is_cut_short_and_the_job_then_runs_as_long(job, monkeypatch):
    monkeypatch.setattr(job_pause, "MAX_PAUSE_S", 0.5)
    with job_pause.page_run():
        assert wait_for(lambda: state(job) == "T")
        assert wait_for(lambda: not job_pause.paused())  # a long page run: continued after MAX_PAUSE_S
        assert job_pause._no_pause_before > time.monotonic()  # the job's turn: as long as it was paused
        with job_pause.page_run():  # another run within that turn: no new pause
            assert not job_pause.paused()
        assert wait_for(lambda: state(job) == "S")
    time.sleep(max(0.0, job_pause._no_pause_before - time.monotonic()) + 0.01)
    with job_pause.page_run():
        assert job_pause.paused()


def test_no_job_no_pause_and_unregistering_continues_a_stopped_job():
    with job_pause.page_run():
        assert not job_pause.paused()
    proc = subprocess.Popen(["sleep", "60"])
    try:
        job_pause.register(proc.pid)
        with job_pause.page_run():
            assert wait_for(lambda: state(proc.pid) == "T")
            job_pause.unregister(proc.pid)  # the job ends or is cancelled mid-pause
            assert wait_for(lambda: state(proc.pid) == "S")
    finally:
        proc.kill()
        proc.wait()
        assert wait_for(lambda: not job_pause.paused())
        job_pause._no_pause_before = 0.0
