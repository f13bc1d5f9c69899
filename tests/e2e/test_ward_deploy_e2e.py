"""The ward deployment (deploy/serve-ward.sh → deploy/ward.py): workers behind nginx, for real.

A load test (marker `load`, run by .ci/run after ./test.sh): it starts two Streamlit workers and
nginx, then checks, through the proxy, the security headers and closed metrics (finding 8 of issue
13), sticky sessions (each browser stays on one worker), that 20 simultaneous browser sessions are
spread over both workers and each sees only its own values (finding 8 / must-exist 5), and that a
worker that dies is restarted by the health checks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest

from e2e.conftest import ROOT, free_port
from e2e.sessions import run_sessions, timing_lines
from e2e.waits import waits

pytestmark = [pytest.mark.e2e, pytest.mark.load]
SESSIONS = 20
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Cookie": f"mas_worker={cookie}"} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def ward():
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed: run deploy/install-nginx.sh (.ci/run does)")
    port, first = free_port(), free_port()
    while first + 1 == port or not _free(first + 1):
        first = free_port()
    env = {
        **os.environ,
        "MAS_WARD_WORKERS": "2",
        "MAS_WARD_ADDRESS": "127.0.0.1",
        "MAS_WARD_PORT": str(port),
        "MAS_WARD_WORKER_PORT": str(first),
        "MAS_WARD_CHECK_S": "1",
        "MAS_WARD_START_S": str(waits.page / 1000),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "ward.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(lambda: proc.stdout.readline().decode(), "")), daemon=True
    ).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + waits.page / 1000
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("ward.py exited: " + "".join(lines)[-2000:])
        if any("serving http" in line for line in lines) and get(url + "/healthz")[0] == 200:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the ward deployment did not come up: " + "".join(lines)[-2000:])
    try:
        yield url, first, lines
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_proxy_sends_security_headers_and_hides_metrics(ward):
    url, _, _ = ward
    status, headers, _ = get(url + "/")
    assert status == 200
    assert headers["content-security-policy"] == "frame-ancestors 'self'"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "mas_worker=" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
    assert get(url + "/_stcore/metrics")[0] == 404
    assert json.loads(get(url + "/_stcore/host-config")[2])["allowedOrigins"] == []


def test_each_browser_sticks_to_one_worker_and_new_browsers_spread(ward):
    url, _, _ = ward
    placed = Counter()
    for i in range(24):
        _, headers, _ = get(url + "/")
        cookie = headers["set-cookie"].split(";")[0].split("=", 1)[1]
        first = headers["x-mas-worker"]
        placed[first] += 1
        again = {get(url + "/_stcore/health", cookie)[1]["x-mas-worker"] for _ in range(4)}
        assert again == {first}, f"browser {i} moved between workers: {again}"
    assert set(placed) == {"worker-1", "worker-2"}, placed


def test_twenty_sessions_over_the_workers_stay_isolated(ward):
    url, _, _ = ward
    results = run_sessions(url, SESSIONS)
    print("\nward deployment, 2 workers behind nginx:\n" + "\n".join(timing_lines(results)))
    failed = [(r.index, r.error) for r in results if r.error]
    assert failed == [], failed
    for r in results:
        assert r.field_value == r.ferritin, f"session {r.index}: its ferritin field shows {r.field_value!r}"
        assert f"{r.ferritin} ng/mL" in r.text and r.platelets in r.text, f"session {r.index}: own results missing"
        assert r.others_seen == [], f"session {r.index} shows another session's values: {r.others_seen}"
    spread = Counter(r.worker for r in results)
    print(f"sessions per worker: {dict(sorted(spread.items()))}")
    assert set(spread) == {"worker-1", "worker-2"}, spread


def test_a_dead_worker_is_restarted_by_the_health_checks(ward):
    url, first, lines = ward
    pid = next(int(line.split("pid ")[1].rstrip(")\n")) for line in lines if line.startswith("[ward] worker 1 started"))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + waits.page / 1000
    restarted = False
    while time.monotonic() < deadline:
        if sum(line.startswith("[ward] worker 1 started") for line in lines) >= 2:
            try:  # "started" is printed when the process is spawned, before it listens
                status = get(f"http://127.0.0.1:{first}/_stcore/health")[0]
            except urllib.error.URLError:
                status = None
            if status == 200:
                restarted = True
                break
        time.sleep(0.5)
    assert restarted, "".join(lines)[-2000:]
    assert any("worker 1 exited" in line for line in lines)
    assert get(url + "/")[0] == 200
