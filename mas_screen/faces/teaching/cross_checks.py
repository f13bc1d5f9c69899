"""Cross-checks of a case against the criteria data: known inputs and units, instruments and items its
claims name, source and panel times, and the version-2 requirements."""

from __future__ import annotations

from pydantic import (
    ValidationError,
)

from mas_screen.criteria.loading import criteria, instrument_ids
from mas_screen.criteria.schema import ItemSpec
from mas_screen.domain.models import CONTEXT_LABELS
from mas_screen.domain.series import Panel
from mas_screen.faces.teaching.schema import (
    CONSTRUCTED,
    READING_OF_INTERPRETATION,
    Case,
    CasePanel,
    Claim,
    PathT,
    Problem,
    PublishedSource,
    _dotted,
    normal_time,
    validation_problems,
)
from mas_screen.faces.teaching.yaml_lines import LineMap
from mas_screen.kernel.inputs.times import TimeError

# ------------------------------------------------------------------------------------- cross-checks


class _Collector:
    def __init__(self, file: str, lines: LineMap) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, path: PathT | str, message: str) -> None:
        if isinstance(path, str):
            path = tuple(int(p) if p.isdigit() else p for p in path.split(".")) if path else ()
        self.problems.append(Problem(self.file, _dotted(path), self.lines.line(path), message))


def known_input(key: str) -> bool:
    return key in criteria().analytes.analytes or key in CONTEXT_LABELS


def cross_check(
    case: Case, lines: LineMap, file: str, *, stem: str | None = None, reserved_ids: set[str] | None = None
) -> list[Problem]:
    """What the schema alone cannot check: references resolve, panel times and values are readable
    by the core, claims name real items and panels, version-2 completeness."""
    out = _Collector(file, lines)
    refs = criteria().references
    if stem is not None and case.id != stem:
        out.add(("id",), f"{case.id!r} does not match the file name {stem!r}")
    if reserved_ids and case.id in reserved_ids:
        out.add(("id",), f"{case.id!r} is already the id of a case in the library; choose another id")
    _check_source(case, out)
    for i, tp in enumerate(case.teaching_points):
        if tp.citation not in refs:
            out.add(
                ("teaching_points", i, "citation"), f"unknown citation key {tp.citation!r} (not in references.yaml)"
            )
    # Panels: times readable and distinct, labs and context readable by the core's own models.
    seen: dict[str, int] = {}
    ordered_ok = True
    for i, panel in enumerate(case.panels):
        try:
            normal = normal_time(panel.time)
        except TimeError as exc:
            out.add(("panels", i, "time"), str(exc))
            ordered_ok = False
            continue
        if normal in seen:
            out.add(("panels", i, "time"), f"two panels at {normal} (panels {seen[normal]} and {i})")
            ordered_ok = False
        seen[normal] = i
        try:
            Panel.model_validate({"time": panel.time, "labs": panel.labs, "context": panel.context})
        except ValidationError as exc:
            raw = {"time": panel.time, "labs": panel.labs, "context": panel.context}
            out.problems += validation_problems(exc, raw, lines, file, ("panels", i))
        _check_panel_v2(case, i, panel, out)
    _check_version_2(case, out)
    if ordered_ok:
        times = set(case.times)
        for where, claim in case.all_claims():
            _check_claim_refs(claim, where, out, times)
        for i, near in enumerate(case.near_miss):
            _check_at(near.at, f"near_miss.{i}.at", out, times)
            if near.item is not None:
                _resolve_item_spec(near.criterion, near.item, out, f"near_miss.{i}.item")
            elif criteria().instruments[near.criterion].cutoff is None:
                out.add(f"near_miss.{i}", f"{near.criterion} has no score cut-off; name an item")
        if case.version == 2 and case.expected_interpretation is not None and case.final_reading is not None:
            declared = READING_OF_INTERPRETATION.get(case.expected_interpretation, case.expected_interpretation)
            last = case.panels_in_order()[-1][1]
            if last.answer is not None and declared != last.answer.reading:
                out.add(
                    ("expected_interpretation",),
                    f"{case.expected_interpretation!r} contradicts the last panel's authored reading "
                    f"{last.answer.reading!r}",
                )
    return out.problems


def _check_source(case: Case, out: _Collector) -> None:
    refs = criteria().references
    src = case.source
    if isinstance(src, str):
        if src != CONSTRUCTED and src not in refs:
            out.add(("source",), f"{src!r} is neither {CONSTRUCTED!r} nor a citation key in references.yaml")
        return
    if not isinstance(src, PublishedSource):
        return
    if src.reference is not None and src.reference not in refs:
        out.add(("source", "reference"), f"unknown citation key {src.reference!r} (not in references.yaml)")
    n = len(case.panels)
    for k, pv in enumerate(src.published_values):
        where = ("source", "published_values", k)
        if pv.panel is not None and not 0 <= pv.panel < n:
            out.add((*where, "panel"), f"panel {pv.panel} does not exist (the case has panels 0 to {n - 1})")
            continue
        if pv.key in criteria().analytes.analytes:
            if pv.panel is None:
                out.add((*where, "panel"), f"{pv.key!r} is a lab: name the panel it was measured at")
            elif pv.unit is not None and _unit(pv.key, pv.unit) is None:
                out.add((*where, "unit"), f"{pv.unit!r} is not a unit of {pv.key}")
        elif pv.key not in CONTEXT_LABELS:
            out.add((*where, "key"), f"{pv.key!r} is neither a lab key nor a context field")


def _unit(analyte: str, text: str):
    from mas_screen.domain.units import unit_index, unit_key

    return unit_index(analyte).accepted.get(unit_key(text))


def _check_panel_v2(case: Case, i: int, panel: CasePanel, out: _Collector) -> None:
    refs = criteria().references
    if panel.answer is not None:
        for k, key in enumerate(panel.answer.references):
            if key not in refs:
                out.add(("panels", i, "answer", "references", k), f"unknown citation key {key!r}")
    if panel.next_steps is not None:
        steps = panel.next_steps
        if not 3 <= len(steps) <= 6:
            out.add(("panels", i, "next_steps"), f"{len(steps)} next steps: give 3 to 6")
        if not any(s.grade == "best" for s in steps):
            out.add(("panels", i, "next_steps"), "no next step is graded 'best': mark at least one")
        first: dict[str, int] = {}
        for k, step in enumerate(steps):
            if step.id in first:
                out.add(
                    ("panels", i, "next_steps", k, "id"),
                    f"id {step.id!r} is used twice (steps {first[step.id]} and {k})",
                )
            first.setdefault(step.id, k)
            for r, key in enumerate(step.references):
                if key not in refs:
                    out.add(("panels", i, "next_steps", k, "references", r), f"unknown citation key {key!r}")
    if panel.adapted:
        context_keys = set(panel.context or {}) | set(case.context.model_fields_set)
        for key in panel.adapted:
            if key not in panel.labs and key not in context_keys:
                out.add(("panels", i, "adapted", key), f"{key!r} is not a lab or context value of this panel")


def _check_version_2(case: Case, out: _Collector) -> None:
    if case.version != 2:
        return
    if isinstance(case.source, str):
        out.add(("source",), "a version-2 case gives source as a mapping (kind: published or kind: constructed)")
    if not case.themes:
        out.add(("themes",), "give at least one theme (see docs/case-schema.md for the vocabulary)")
    elif len(set(case.themes)) != len(case.themes):
        out.add(("themes",), "a theme is listed twice")
    if case.difficulty is None:
        out.add(("difficulty",), "give the difficulty: 1 introductory, 2 intermediate, 3 advanced")
    for i, panel in enumerate(case.panels):
        if panel.answer is None:
            out.add(("panels", i, "answer"), "each panel needs the author's reading (answer: reading, rationale)")
        if panel.next_steps is None:
            out.add(("panels", i, "next_steps"), "each panel needs 3 to 6 ranked next steps")


def _check_at(at: str, where: str, out: _Collector, times: set[str]) -> None:
    if at in ("last", "first", "all", "any"):
        return
    try:
        normal = normal_time(at)
    except TimeError as exc:
        out.add(where, f"{at!r}: {exc}")
        return
    if normal not in times:
        out.add(where, f"{at!r} is not the time of a panel of this case")


def resolve_item_spec(iid: str, path_ids: list[str]) -> ItemSpec:
    """The item (or component) of an instrument named by ids; KeyError when there is none."""
    spec = criteria().instruments[iid]
    items = spec.items
    found: ItemSpec | None = None
    for part in path_ids:
        found = next((it for it in items if it.id == part), None)
        if found is None:
            raise KeyError(f"{iid} has no item {'/'.join(path_ids)!r}")
        items = found.sub_items()
    return found


def _resolve_item_spec(iid: str, path_ids: list[str], out: _Collector, where: str) -> None:
    try:
        resolve_item_spec(iid, path_ids)
    except KeyError as exc:
        out.add(where, exc.args[0])


def _check_claim_refs(claim: Claim, where: str, out: _Collector, times: set[str]) -> None:
    _check_at(claim.at, f"{where}.at", out, times)
    if claim.item is not None:
        if claim.item[0] not in instrument_ids():
            out.add(f"{where}.item", f"unknown instrument {claim.item[0]!r}")
        else:
            _resolve_item_spec(claim.item[0], claim.item[1:], out, f"{where}.item")
    if claim.first_met is not None and claim.time is not None:
        _check_at(claim.time, f"{where}.time", out, times)
    if claim.change is not None and claim.change not in criteria().analytes.analytes:
        out.add(f"{where}.change", f"unknown lab key {claim.change!r}")
    if claim.summary == "next_tests":
        for key in (claim.contains, claim.not_contains):
            if key is not None and not known_input(key):
                out.add(f"{where}.contains", f"{key!r} is not an input key")
