"""Run MAS Screen for a ward: N Streamlit workers behind nginx, supervised (deploy/serve-ward.sh).

- Starts N workers (`streamlit run serve.py`, loopback ports from MAS_WARD_WORKER_PORT), waits
  until each answers /_stcore/health.
- Renders deploy/nginx.conf.template into a private runtime directory (mode 700, removed on exit)
  and runs nginx in the foreground: sticky sessions by cookie, security headers, no metrics, no
  access log, no request bodies on disk.
- Checks every worker's /_stcore/health every MAS_WARD_CHECK_S seconds; a worker that exited, or
  has not answered a check for MAS_WARD_UNHEALTHY_S seconds (default 120: a worker busy with many
  sessions answers slowly, and a restart would drop them all), is restarted on its port (its sessions reconnect to a fresh one;
  nginx meanwhile sends new browsers elsewhere: max_fails). Exits when nginx exits or on SIGTERM /
  SIGINT, stopping everything it started.

Settings (environment): MAS_WARD_WORKERS (default: cores), MAS_WARD_ADDRESS (0.0.0.0), MAS_WARD_PORT
(8500), MAS_WARD_WORKER_PORT (8601, then +1 per worker), MAS_WARD_CHECK_S (5), MAS_WARD_NGINX
(nginx on PATH or /usr/sbin/nginx).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def log(text: str) -> None:
    print(f"[ward] {text}", flush=True)


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


class Worker:
    def __init__(self, index: int, port: int) -> None:
        self.index, self.port = index, port
        self.proc: subprocess.Popen | None = None
        self.unhealthy_since: float | None = None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"),
            "--server.address", "127.0.0.1", "--server.port", str(self.port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false",
        ]  # fmt: skip
        # Worker output carries no patient data (the app logs none); it goes to this terminal.
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL)
        self.unhealthy_since = None
        log(f"worker {self.index} started on 127.0.0.1:{self.port} (pid {self.proc.pid})")

    def healthy(self, timeout: float = 10) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=timeout) as r:
                return r.read().strip() == b"ok"
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def render(runtime: Path, workers: list[Worker], listen: str) -> Path:
    upstreams = "\n".join(f"        server 127.0.0.1:{w.port} max_fails=3 fail_timeout=10s;" for w in workers)
    names = "\n".join(f'        "127.0.0.1:{w.port}" "worker-{w.index}";' for w in workers)
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in {
        "{RUNTIME}": str(runtime),
        "{UPSTREAMS}": upstreams,
        "{WORKER_NAMES}": names,
        "{LISTEN}": listen,
    }.items():
        text = text.replace(key, value)
    conf = runtime / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def wait_healthy(workers: list[Worker], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(workers)
    while pending and time.monotonic() < deadline:
        pending = [w for w in pending if not w.healthy()]
        for w in pending:
            if not w.alive():
                raise SystemExit(f"worker {w.index} exited during start (status {w.proc.returncode})")
        if pending:
            time.sleep(0.5)
    if pending:
        raise SystemExit(f"workers {[w.index for w in pending]} not healthy after {timeout:.0f} s")


def main() -> int:
    count = int(setting("MAS_WARD_WORKERS", str(os.cpu_count() or 1)))
    address = setting("MAS_WARD_ADDRESS", "0.0.0.0")
    port = int(setting("MAS_WARD_PORT", "8500"))
    first = int(setting("MAS_WARD_WORKER_PORT", "8601"))
    check_s = float(setting("MAS_WARD_CHECK_S", "5"))
    unhealthy_s = float(setting("MAS_WARD_UNHEALTHY_S", "120"))
    nginx = setting("MAS_WARD_NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
    workers = [Worker(i + 1, first + i) for i in range(count)]
    runtime = Path(tempfile.mkdtemp(prefix="mas-ward-"))  # mode 700
    stopping = False
    nginx_proc: subprocess.Popen | None = None

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for w in workers:
            w.start()
        wait_healthy(workers, timeout=float(setting("MAS_WARD_START_S", "300")))
        conf = render(runtime, workers, f"{address}:{port}")
        check = subprocess.run([nginx, "-t", "-q", "-p", str(runtime), "-c", str(conf)], capture_output=True, text=True)
        if check.returncode:
            raise SystemExit(f"nginx configuration rejected: {check.stderr.strip()}")
        nginx_proc = subprocess.Popen([nginx, "-p", str(runtime), "-c", str(conf), "-g", "daemon off;"])
        log(f"serving http://{address}:{port} with {count} worker(s); health checks every {check_s:g} s")
        while not stopping:
            if nginx_proc.poll() is not None:
                log(f"nginx exited (status {nginx_proc.returncode}); stopping")
                return 1
            for w in workers:
                if not w.alive():
                    log(f"worker {w.index} exited (status {w.proc.returncode if w.proc else '?'}); restarting")
                    w.start()
                elif w.healthy():
                    w.unhealthy_since = None
                else:
                    now = time.monotonic()
                    w.unhealthy_since = w.unhealthy_since or now
                    if now - w.unhealthy_since >= unhealthy_s:
                        log(f"worker {w.index} failed its health checks for {unhealthy_s:g} s; restarting")
                        w.stop()
                        w.start()
            for _ in range(int(check_s * 10)):
                if stopping:
                    break
                time.sleep(0.1)
        return 0
    finally:
        if nginx_proc is not None and nginx_proc.poll() is None:
            nginx_proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                nginx_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx_proc.kill()
        for w in workers:
            w.stop()
        shutil.rmtree(runtime, ignore_errors=True)
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
