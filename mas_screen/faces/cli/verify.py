"""`python -m mas_screen verify FILE`: recompute a saved result and say whether it is reproduced.

A saved Assessment (the `assess` command's JSON, the bedside page's JSON export, or a `trend`
result with one assessment per point) records its input and the fingerprint of the criteria it
was computed under (`provenance`, see mas_screen.criteria.provenance). Verification recomputes every
assessment from its recorded input under the criteria installed now and compares:

- the result itself (every field except `provenance`), instrument by instrument;
- the criteria fingerprint (`criteria_sha256`; per file `data_sha256` names what changed).

Reproduced (exit 0) means both are the same. Otherwise (exit 1) each instrument whose result or
data changed is named, with the files that differ. A file that cannot be read, is not a result
with a recorded input, or whose recorded input no longer validates, exits 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mas_screen.criteria.provenance import fingerprint, tool_version
from mas_screen.domain.models import NON_FINITE_TAG, Assessment, PatientInput
from mas_screen.faces.bedside import assess

RESULT_FIELDS = tuple(name for name in Assessment.model_fields if name != "provenance")


class VerifyError(ValueError):
    """The file is not a result that can be verified (exit 2)."""


@dataclass
class Finding:
    where: str  # "" for a single assessment, else "point 3 (2026-03-03T08:00)"
    instrument: str | None  # an instrument id, or None for the summary, warnings, references, data
    what: str


@dataclass
class VerifyReport:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return not self.findings

    @property
    def instruments(self) -> list[str]:
        """Every instrument named by a finding, in first-seen order."""
        return list(dict.fromkeys(f.instrument for f in self.findings if f.instrument))

    def text(self) -> str:
        fp = fingerprint()
        lines = []
        if self.reproduced:
            lines.append(
                f"verify: reproduced ({self.checked} assessment{'s' if self.checked != 1 else ''}) under the "
                f"installed criteria (SHA-256 {fp.criteria_sha256}, MAS Screen {tool_version()})"
            )
        else:
            named = ", ".join(self.instruments) or "no instrument"
            lines.append(f"verify: NOT reproduced under the installed criteria; instruments changed: {named}")
            for f in self.findings:
                where = f"{f.where}: " if f.where else ""
                who = f"{f.instrument}: " if f.instrument else ""
                lines.append(f"  {where}{who}{f.what}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _assessments(data: Any) -> list[tuple[str, dict, dict | None]]:
    """(label, assessment, fallback input) for each assessment in the file."""
    if not isinstance(data, dict):
        raise VerifyError("the file is not a JSON object (an Assessment or a trend result)")
    if "points" in data and "criteria" not in data:
        points = data["points"]
        if not isinstance(points, list) or not points:
            raise VerifyError("the trend result has no points to verify")
        out = []
        for i, point in enumerate(points, start=1):
            if not isinstance(point, dict) or not isinstance(point.get("assessment"), dict):
                raise VerifyError(f"point {i} has no assessment")
            out.append((f"point {i} ({point.get('time')})", point["assessment"], None))
        return out
    if "criteria" not in data:
        raise VerifyError("the file is not a MAS Screen result (no 'criteria')")
    return [("", data, data.get("input"))]


def _recorded_input(assessment: dict, fallback: dict | None, label: str) -> PatientInput:
    prov = assessment.get("provenance")
    if not isinstance(prov, dict):
        raise VerifyError(f"{label or 'the assessment'} has no provenance (saved by a version without it)")
    raw = prov.get("input", fallback)
    if raw is None:
        raw = fallback
    if not isinstance(raw, dict):
        raise VerifyError(f"{label or 'the assessment'} records no input to recompute from")
    try:
        return PatientInput.model_validate(_untag(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "input"
        raise VerifyError(f"the recorded input does not validate ({where}: {first['msg']})") from exc


def _untag(value: Any) -> Any:
    """Non-finite numbers recorded as {"$float": "nan"} (models.NON_FINITE_TAG) back to floats."""
    if isinstance(value, dict):
        if len(value) == 1 and value.get(NON_FINITE_TAG) in ("nan", "inf", "-inf"):
            return float(value[NON_FINITE_TAG])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def _status_change(old: Any, new: Any) -> str:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return "added" if old is None else ("removed" if new is None else "changed")
    parts = []
    for key in ("status", "score", "score_range", "count_met", "count_assessable"):
        if old.get(key) != new.get(key):
            parts.append(f"{key} {old.get(key)!r} → {new.get(key)!r}")
    others = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in ("status", "score"))
    others = [k for k in others if k not in ("score_range", "count_met", "count_assessable")]
    if others:
        parts.append("also " + ", ".join(others))
    return "result changed (" + "; ".join(parts) + ")"


def _compare(label: str, recorded: dict, now: dict, report: VerifyReport) -> None:
    old_criteria, new_criteria = recorded.get("criteria") or {}, now["criteria"]
    for iid in list(dict.fromkeys([*new_criteria, *old_criteria])):
        if old_criteria.get(iid) != new_criteria.get(iid):
            report.findings.append(Finding(label, iid, _status_change(old_criteria.get(iid), new_criteria.get(iid))))
    for name in RESULT_FIELDS:
        if name == "criteria" or recorded.get(name) == now.get(name):
            continue
        if name == "summary" and isinstance(recorded.get(name), dict):
            old, new = recorded[name], now[name]
            keys = [k for k in new if old.get(k) != new.get(k)]
            shown = ", ".join(f"{k} {old.get(k)!r} → {new.get(k)!r}" if k.endswith("signal") else k for k in keys)
            report.findings.append(Finding(label, None, f"summary changed ({shown})"))
        else:
            report.findings.append(Finding(label, None, f"{name} changed"))


def _compare_data(prov: dict, report: VerifyReport) -> None:
    fp = fingerprint()
    if prov.get("criteria_sha256") == fp.criteria_sha256:
        return
    old = prov.get("data_sha256") or {}
    files = sorted(set(old) | set(fp.data_sha256))
    changed = [f for f in files if old.get(f) != fp.data_sha256.get(f)] if old else []
    instruments = set(fp.instruments) | set(prov.get("instruments") or {})
    named = False
    for f in changed:
        stem = f.removeprefix("criteria/").removesuffix(".yaml")
        state = "added" if f not in old else ("removed" if f not in fp.data_sha256 else "changed")
        if f.startswith("criteria/") and stem in instruments:
            report.findings.append(Finding("", stem, f"criteria data {state} ({f})"))
            named = True
        else:
            report.findings.append(Finding("", None, f"shared data {state} ({f}): may affect every instrument"))
            named = True
    if not named:
        report.findings.append(
            Finding(
                "",
                None,
                f"criteria data differ (recorded SHA-256 {prov.get('criteria_sha256')}, installed {fp.criteria_sha256})",
            )
        )
    old_versions = prov.get("instruments") or {}
    for iid, version in fp.instruments.items():
        if iid in old_versions and old_versions[iid] != version:
            report.findings.append(Finding("", iid, f"instrument version {old_versions[iid]} → {version}"))


def verify_data(data: Any) -> VerifyReport:
    """Recompute every assessment in a saved result; raises VerifyError when it cannot be verified."""
    report = VerifyReport()
    items = _assessments(data)
    prepared = [(label, a, _recorded_input(a, fallback, label)) for label, a, fallback in items]
    provs = [a["provenance"] for _, a, _ in prepared]
    for label, recorded, patient in prepared:
        now = assess(patient).model_dump(mode="json")
        _compare(label, recorded, now, report)
        report.checked += 1
    seen: set[str] = set()
    for prov in provs:  # the data comparison once per distinct fingerprint
        key = str(prov.get("criteria_sha256"))
        if key not in seen:
            seen.add(key)
            _compare_data(prov, report)
    versions = {str(p.get("tool_version")) for p in provs}
    if versions != {tool_version()}:
        report.notes.append(f"recorded by MAS Screen {', '.join(sorted(versions))}; installed {tool_version()}")
    return report


def verify_text(text: str) -> VerifyReport:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise VerifyError(f"the file is not JSON ({str(exc).splitlines()[0][:200]})") from exc
    return verify_data(data)


__all__ = ["Finding", "VerifyError", "VerifyReport", "verify_data", "verify_text"]
