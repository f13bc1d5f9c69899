"""Text pieces of the printed summary: an instrument result, its rule in a few words, the context and
lab rows as entered, and the caveats that apply to this patient."""

from __future__ import annotations

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import (
    BIOLOGIC_LABELS,
    CONTEXT_LABELS,
    DISEASE_LABELS,
    NUMERIC_CONTEXT_FIELDS,
    Assessment,
    CriterionResult,
    PatientInput,
    field_label,
)
from mas_screen.domain.units import pretty_unit, unit_index, unit_key
from mas_screen.explain.phrases import result_phrase, typeset
from mas_screen.explain.summary import reading_order, screening_caveat, supporting_instruments
from mas_screen.kernel.inputs.parsing import echo
from mas_screen.render.pdf.kit import SHORT_LABELS, STATUS_WORD

# ---------------------------------------------------------------------------------- text pieces


def result_text(r: CriterionResult) -> str:
    """Score / range / bound / count of one instrument, as a short phrase (explain.phrases; the
    printed table gives the rule in a column of its own, so no cut-off here)."""
    text = result_phrase(r, cutoff=False, open_=True)
    if not text:
        counted = [i for i in r.items if i.counted]
        met = sum(1 for i in counted if i.result == "met")
        open_ = sum(1 for i in counted if i.result == "missing")
        text = f"{met} of {len(counted)} items met" + (f", {open_} not entered or undecided" if open_ else "")
    for extra in r.additional_cutoffs:
        text += f"; {extra.label}: {STATUS_WORD[extra.status]}"
    return typeset(text)


def rule_text(r: CriterionResult) -> str:
    """The decision rule in a few words: the cut-off, or the count the instrument requires."""
    if r.cutoff_label:
        return typeset(r.cutoff_label)
    from mas_screen.kernel.instruments import instruments

    return instruments()[r.id].rule_text()


def short_label(key: str) -> str:
    """A lab or context field's name for the printed tables."""
    return SHORT_LABELS.get(key) or field_label(key).removesuffix(" (years)").removesuffix(" (cm)")


def _context_rows(patient: PatientInput) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    ctx = patient.context
    for name in CONTEXT_LABELS:
        value = getattr(ctx, name, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name == "underlying_disease":
            shown = DISEASE_LABELS.get(value, str(value))
        elif name == "biologic_therapy":
            shown = BIOLOGIC_LABELS.get(value, str(value))
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        elif name in NUMERIC_CONTEXT_FIELDS:
            unit = "years" if "age" in name else "cm"
            shown = f"{echo(value)} {unit}"  # as typed, bounded
        else:
            shown = str(value)
        rows.append((short_label(name), shown))
    return rows


def _typed_unit(analyte: str, unit: str | None) -> str:
    """The unit as typed, in its standard spelling when recognised (10*9/L → ×10⁹/L)."""
    spec = criteria().analytes.analytes[analyte]
    if unit in (None, ""):
        return f"{pretty_unit(spec.default_unit)} (default)"
    known = unit_index(analyte).accepted.get(unit_key(unit))
    return pretty_unit(known.unit) if known is not None else unit


def _lab_rows(patient: PatientInput, warned: set[str], noted: set[str] = frozenset()) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    analytes = criteria().analytes.analytes
    for key, m in patient.labs.items():
        raw = m.value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        value = str(raw) if isinstance(raw, bool) else echo(raw)  # as typed, bounded (a 1 MB paste is cut)
        text = f"{value} {_typed_unit(key, m.unit)}"
        if key in warned:
            text += "  ⚠ left out"
        elif key in noted:
            text += "  ⚠ check"
        rows.append((SHORT_LABELS.get(key, analytes[key].label), text))
    return rows


def relevant_ids(a: Assessment, patient: PatientInput) -> list[str]:
    """Instruments whose caveats the printed summary carries in full: those built for the
    patient's population and those supporting it (their sentences are quoted in the summary), and
    those validated for a patient inside their derivation population. The rest are in the app and
    the JSON export; printing all ~30 caveats would push the summary past two pages."""
    own = (*a.summary.own_instruments, *supporting_instruments(patient.context.underlying_disease or "unknown"))
    return [r.id for r in reading_order(a) if r.id in own or r.population == "validated"]


def _caveats(a: Assessment, patient: PatientInput) -> list[str]:
    """Summary caveats and the relevant instruments', deduplicated (the screening line is boxed above)."""
    seen = {screening_caveat()}
    out: list[str] = []
    for text in a.summary.caveats:
        if text not in seen:
            seen.add(text)
            out.append(text)
    keep = relevant_ids(a, patient)
    for iid in keep:
        r = a.criteria[iid]
        for text in r.caveats:
            if text not in seen:
                seen.add(text)
                out.append(f"{r.short_name}: {text}")
    for iid, r in a.criteria.items():
        if iid not in keep and r.status == "met":
            out.append(
                f"{r.short_name}: met, but the patient is outside its derivation population "
                f"({r.population_description.rstrip('.')}): indicative only."
            )
    others = [r.short_name for iid, r in a.criteria.items() if iid not in keep]
    if others:
        out.append(f"Full caveats of {', '.join(others)}: see the app or the JSON export.")
    return out
