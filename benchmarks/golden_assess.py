"""Golden hashes of assess() output, to prove a speed-up changed no byte of any result.

    .venv/bin/python benchmarks/golden_assess.py write [FILE]   # before changing the engine
    .venv/bin/python benchmarks/golden_assess.py check [FILE]   # after: every hash must match

Inputs: 20,000 synthetic patients (benchmarks/synthetic.py), the 5,000-row boundary table of
tests/test_batch_identity.py (values at and one step either side of every threshold and plausible
bound in every unit, censored and bad values, every context answer) converted row by row, 10,000
hostile patients from the fuzz harness (tests/fuzz_harness.py; a refused input hashes its error),
and the shared test panels. Each patient is assessed twice (cold and warm caches): both must hash alike.
The hash file holds only digests of synthetic data, nothing about real patients.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import patients  # noqa: E402

from mas_screen import PatientInput, assess  # noqa: E402

DEFAULT_FILE = Path("/tmp/mas_screen_golden_assess.json")
GENERATED_AT = {"provenance": {"generated_at"}}


def inputs() -> list[dict]:
    """Every input patient as a PatientInput dict, in a fixed order."""
    from fuzz_harness import random_patient
    from panels import CONTRACT_EXAMPLE, FULL_PANEL
    from test_batch_identity import make_table

    from mas_screen.faces.cohort import plan_columns
    from mas_screen.kernel.inputs.columns import convert_row

    out = [CONTRACT_EXAMPLE, FULL_PANEL, {}]
    out += patients(20_000)
    table = make_table(5000, seed=20260301)
    cmap = plan_columns(list(table.columns)).cmap
    out += [convert_row(row, cmap).data for row in table.to_dict("records")]
    rng = random.Random(20261126)
    out += [random_patient(rng) for _ in range(10_000)]
    return out


def digest(data: dict) -> str:
    try:
        # Every field but the time stamp: provenance.generated_at differs between runs by design.
        text = assess(PatientInput.model_validate(data)).model_dump_json(exclude=GENERATED_AT)
    except Exception as exc:  # a refused input must be refused alike
        text = f"{type(exc).__name__}: {exc}"
    return hashlib.sha256(text.encode()).hexdigest()


def hashes() -> list[str]:
    data = inputs()
    first = [digest(d) for d in data]
    second = [digest(d) for d in data]  # warm caches must not change a result
    unstable = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
    if unstable:
        raise SystemExit(f"{len(unstable)} patients hash differently on a second run, e.g. #{unstable[0]}")
    return first


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_FILE
    got = hashes()
    if mode == "write":
        path.write_text(json.dumps(got))
        print(f"wrote {len(got)} hashes to {path}")
        return
    want = json.loads(path.read_text())
    bad = [i for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    if len(want) != len(got) or bad:
        raise SystemExit(f"MISMATCH: {len(bad)} of {len(want)} patients differ, first #{bad[:5]}")
    print(f"all {len(got)} hashes match")


if __name__ == "__main__":
    main()
