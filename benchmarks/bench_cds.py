"""CDS Hooks service throughput: requests per second and latency at 20 concurrent clients, each
request a patient-view call with a prefetch of 60 Observations, signed with an ES384 JWT (printed,
never asserted).

    nice .venv/bin/python benchmarks/bench_cds.py [REQUESTS] [CLIENTS]

Starts `python -m mas_screen serve-cds` (one uvicorn worker) on a free loopback port with a
trusted test issuer, mints one token per request beforehand (each with its own jti: the service
refuses replays), then sends REQUESTS calls from CLIENTS concurrent keep-alive connections.
Also prints the in-process cost of one call (map + assess + cards) without HTTP or JWT.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from cds_support import call_body, condition, ec_client, observation, start_serve_cds, stop  # noqa: E402

SERVICE = "/cds-services/mas-screen"
# 15 analytes x 4 results over the last 3 days = 60 Observations (SI and US units mixed).
PANEL = [
    ("2276-4", 8400, "ng/mL"),
    ("777-3", 132, "10*9/L"),
    ("6690-2", 2.1, "10*9/L"),
    ("751-8", 1.2, "10*9/L"),
    ("718-7", 9.1, "g/dL"),
    ("1920-8", 95, "U/L"),
    ("1742-6", 80, "U/L"),
    ("2532-0", 900, "U/L"),
    ("14927-8", 2.4, "mmol/L"),
    ("3255-7", 1.9, "g/L"),
    ("4537-7", 12, "mm/h"),
    ("1988-5", 45, "mg/L"),
    ("48065-7", 3.2, "mg/L{FEU}"),
    ("76039-7", 4000, "U/mL"),
    ("8310-5", 39.5, "Cel"),
]


def body() -> dict:
    obs = [observation(c, v * (1 + k / 10), u, hours_ago=2 + 17 * k) for c, v, u in PANEL for k in range(4)]
    assert len(obs) == 60
    return call_body(obs, conditions=[condition("http://hl7.org/fhir/sid/icd-10-cm", "M08.20")])


async def run(base: str, tokens: list[str], clients: int, payload: dict) -> list[float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for t in tokens:
        queue.put_nowait(t)
    latencies: list[float] = []

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while True:
                try:
                    token = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                resp = await client.post(SERVICE, json=payload, headers={"Authorization": f"Bearer {token}"})
                latencies.append(time.perf_counter() - started)
                if resp.status_code != 200 or not resp.json()["cards"]:
                    raise SystemExit(f"unexpected answer {resp.status_code}")

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def in_process(payload: dict, n: int = 50) -> float:
    from mas_screen.faces.cds_hooks.service import answer, parse_call

    times = []
    for _ in range(n):
        started = time.perf_counter()
        answer(parse_call(payload, "mas-screen", 10), window_hours=72, bedside_url=None)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(requests: int = 600, clients: int = 20) -> None:
    payload = body()
    ehr = ec_client()
    with tempfile.TemporaryDirectory() as tmp:
        config = {"issuers": [{"iss": ehr.iss, "jwks": {"keys": [ehr.public_jwk()]}}]}
        server = start_serve_cds(Path(tmp), config=config)
        try:
            aud = server.url(SERVICE)
            tokens = [ehr.token(aud) for _ in range(requests + clients)]
            asyncio.run(run(server.base, tokens[:clients], clients, payload))  # warm up
            started = time.perf_counter()
            latencies = asyncio.run(run(server.base, tokens[clients:], clients, payload))
            wall = time.perf_counter() - started
        finally:
            stop(server)
    q = statistics.quantiles(latencies, n=100)
    print("CDS Hooks patient-view, prefetch of 60 Observations, ES384 JWT, 1 uvicorn worker")
    print(f"requests: {len(latencies)} from {clients} concurrent clients in {wall:.1f} s")
    print(f"throughput: {len(latencies) / wall:.1f} requests/s")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
        f"p99 {q[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(f"in process (map + assess + cards, no HTTP/JWT): median {in_process(payload) * 1000:.1f} ms per call")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
