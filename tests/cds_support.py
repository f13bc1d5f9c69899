"""CDS Hooks test support: FHIR builders, signing keys and tokens, a real `serve-cds` process, and a
local FHIR server that answers from the files in tests/data/cds_fhir/ (times relative to now).

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parents[1]
FHIR_FILES = Path(__file__).resolve().parent / "data" / "cds_fhir"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(hours: float) -> str:
    return iso(datetime.now(UTC) - timedelta(hours=hours))


# ------------------------------------------------------------------------------------ FHIR


def observation(code: str, value, unit: str, *, hours_ago: float = 2, when: str | None = None, oid=None, patient="p1"):
    return {
        "resourceType": "Observation",
        "id": oid or f"obs-{uuid.uuid4().hex[:10]}",
        "status": "final",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": when or ago(hours_ago),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def searchset(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r.get('id', 'x')}", "resource": r,
             "search": {"mode": "match"}}
            for r in resources
        ],
    }  # fmt: skip


def condition(system: str, code: str, *, patient="p1", verification: str | None = None) -> dict:
    out = {
        "resourceType": "Condition",
        "id": f"cond-{uuid.uuid4().hex[:8]}",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": system, "code": code}]},
    }
    if verification:
        out["verificationStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        }
    return out


def patient_resource(pid="p1", birth="2017-03-01") -> dict:
    return {"resourceType": "Patient", "id": pid, "birthDate": birth}


# An sJIA child in MAS: the acceptance check's panel, SI units where a lab reports them.
MAS_PANEL = [
    ("2276-4", 8400, "ng/mL"),
    ("777-3", 132, "10*9/L"),
    ("1920-8", 95, "U/L"),
    ("14927-8", 2.4, "mmol/L"),
    ("3255-7", 1.9, "g/L"),
    ("8310-5", 39.5, "Cel"),
]
CALM_PANEL = [("2276-4", 80, "ng/mL"), ("777-3", 300, "10*9/L"), ("1920-8", 25, "U/L")]


def call_body(
    observations: list[dict],
    *,
    hook="patient-view",
    patient="p1",
    conditions: list[dict] | None = None,
    patient_res: dict | None = None,
    keys: dict | None = None,
    **extra,
) -> dict:
    """A CDS Hooks request as the spec shows it: every prefetch key the service asked for."""
    prefetch = {
        "patient": patient_res if patient_res is not None else patient_resource(patient),
        "conditions": searchset(*(conditions or [])),
        "ferritin": searchset(*observations),
    }
    for key in ("platelets", "wbc", "neutrophils", "hemoglobin", "ast", "alt", "ldh", "triglycerides", "fibrinogen",
                "esr", "crp", "d_dimer", "scd25", "temperature"):  # fmt: skip
        prefetch.setdefault(key, None)  # "no data" for this template
    if keys is not None:
        prefetch = keys
    body = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient},
        "prefetch": prefetch,
    }
    body.update(extra)
    return body


def sjia() -> list[dict]:
    return [condition(ICD10CM, "M08.20"), condition(SNOMED, "201796004")]


# ---------------------------------------------------------------------------------- signing


@dataclass
class Client:
    """A CDS client (an EHR): its issuer, key id, private key and algorithm."""

    iss: str
    kid: str
    key: object
    alg: str

    def public_jwk(self) -> dict:
        algo = jwt.get_algorithm_by_name(self.alg)
        out = json.loads(algo.to_jwk(self.key.public_key()))
        out.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return out

    def token(self, aud: str, *, lifetime: int = 300, iat_shift: int = 0, jti: str | None = None, **claims) -> str:
        now = int(time.time()) + iat_shift
        payload = {"iss": self.iss, "aud": aud, "iat": now, "exp": now + lifetime, "jti": jti or str(uuid.uuid4())}
        payload.update(claims)
        return jwt.encode(payload, self.key, algorithm=self.alg, headers={"kid": self.kid, "typ": "JWT"})


def ec_client(iss="https://ehr.example.org", kid="ehr-key-1") -> Client:
    return Client(iss, kid, ec.generate_private_key(ec.SECP384R1()), "ES384")


def rsa_client(iss="https://other-ehr.example.org", kid="rsa-1") -> Client:
    return Client(iss, kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS384")


# ----------------------------------------------------------------------------- serve-cds


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    log_path: Path
    clients: list[Client] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, body=None, *, token: str | None = None, headers=None, raw=None):
        """(status, parsed JSON or None, response headers)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        head = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            head["Authorization"] = f"Bearer {token}"
        head.update(headers or {})
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=head)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, _parsed(resp.read()), {k.lower(): v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as err:
            return err.code, _parsed(err.read()), {k.lower(): v for k, v in err.headers.items()}

    def signed(self, method: str, path: str, body=None, *, client: Client | None = None, **kw):
        client = client or self.clients[0]
        return self.request(method, path, body, token=client.token(self.url(path)), **kw)


def _parsed(text: bytes):
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.decode(errors="replace")


def start_serve_cds(tmp: Path, *, config: dict | None = None, args: tuple[str, ...] = ()) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "mas_screen", "serve-cds", "--host", "127.0.0.1", "--port", str(port), *args]
    if config is not None:
        path = tmp / f"cds-config-{port}.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        cmd += ["--config", str(path)]
    log_path = tmp / f"serve-cds-{port}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve-cds exited {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return Server(base, proc, log_path)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("serve-cds did not answer /healthz within 60 s")


def stop(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


# ------------------------------------------------------------------------------ local FHIR


_NOW = re.compile(r'"NOW-(\d+(?:\.\d+)?)H"')


def _load(name: str) -> dict:
    text = (FHIR_FILES / name).read_text(encoding="utf-8")
    return json.loads(_NOW.sub(lambda m: json.dumps(ago(float(m.group(1)))), text))


class FhirServer:
    """A FHIR server for one patient, answering from tests/data/cds_fhir/ with the token it expects.

    GET /fhir/Patient/<id>, /fhir/Condition?patient=<id>, /fhir/Observation?patient=<id>&code=a|b,c|d
    (the observations file filtered by code). Requests are recorded (path and Authorization)."""

    def __init__(self, patient: str, token: str) -> None:
        self.patient, self.token = patient, token
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {outer.token}":
                    return self._send(401, {"resourceType": "OperationOutcome"})
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path == f"/fhir/Patient/{outer.patient}":
                    return self._send(200, _load("patient.json"))
                if parts.path == "/fhir/Condition" and query.get("patient") == [outer.patient]:
                    return self._send(200, _load("conditions.json"))
                if parts.path == "/fhir/Observation" and query.get("patient") == [outer.patient]:
                    codes = {c.split("|")[-1] for c in ",".join(query.get("code", [])).split(",") if c}
                    bundle = _load("observations.json")
                    bundle["entry"] = [
                        e for e in bundle["entry"] if e["resource"]["code"]["coding"][0]["code"] in codes
                    ]
                    bundle["total"] = len(bundle["entry"])
                    return self._send(200, bundle)
                return self._send(404, {"resourceType": "OperationOutcome"})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
