"""Serial panels as data: the input (a series of dated panels) and the result (per-time assessments,
changes between panels, alert hits), as pydantic models shared by the trends face, the column reader and render."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import Assessment, ClinicalContext, DomainModel, Measurement, ReferenceOut, null_context

TREND_ANALYTES = ("platelets", "ferritin", "ast", "wbc", "neutrophils", "fibrinogen", "esr")
"""In the order the consensus ranked them (Ravelli 2016 RMD Open): the first three matter most."""


def _wrap_labs(value: Any) -> Any:
    """Labs as in PatientInput: known keys only; a bare number or string is a value in the default unit."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("labs must be an object mapping lab keys to values")
    known = criteria().analytes.analytes
    unknown = [k for k in value if k not in known]
    if unknown:
        raise ValueError(f"unknown analyte key(s): {', '.join(map(str, unknown))}; known: {', '.join(known)}")
    return {k: v if isinstance(v, dict | Measurement) else {"value": v} for k, v in value.items()}


class Panel(DomainModel):
    """One dated panel as entered: `time` is kept as typed and parsed by assess_series()."""

    model_config = ConfigDict(extra="forbid")
    time: str | None = None
    labs: dict[str, Measurement] = Field(default_factory=dict)
    context: ClinicalContext | None = None  # optional per-panel context overriding the series context

    @field_validator("time", mode="before")
    @classmethod
    def _time_as_text(cls, value: Any) -> Any:
        # A number or other scalar is kept as typed and judged by assess_series (bad_time), not refused.
        if value is None or isinstance(value, str | dict | list):
            return value
        return str(value)

    @field_validator("labs", mode="before")
    @classmethod
    def _labs_known_and_wrapped(cls, value: Any) -> Any:
        return _wrap_labs(value)


class SeriesInput(DomainModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    context: ClinicalContext = Field(default_factory=ClinicalContext)
    panels: list[Panel]
    decimal_comma: bool = Field(default=False, strict=True)  # as PatientInput.decimal_comma, for every panel

    _null_context = field_validator("context", mode="before")(null_context)


SeriesWarningCode = Literal["bad_time", "duplicate_time", "out_of_order", "no_time", "two_units"]
"""Codes of assess_series and the CSV reader. Also used: `mixed_timezone`, `mixed_units` (info),
and from the CSV reader (mas_screen.kernel.inputs.columns) `two_values`, `bad_value`, `cell_unit` (info),
`unnamed_column`, `extra_cells`."""


class SeriesWarning(DomainModel):
    """A problem with one row (panel) of the series; `row` is its 0-based position as entered.

    `message` is written to be shown on its row (it does not name its own row); where it names
    another row, it counts from 1, as a person counts rows.
    """

    row: int
    time: str | None
    code: SeriesWarningCode | str
    field: str | None = None
    message: str
    severity: Literal["warning", "info"] = "warning"  # info: nothing was left out (e.g. rows sorted)
    input: str | None = None  # what was typed, when the problem concerns one cell
    line: int | None = None  # line of a CSV file (header = line 1), when read from CSV


class TrendPoint(DomainModel):
    time: str  # ISO 8601, normalised
    row: int  # position in the input as entered
    assessment: Assessment
    time_input: str | None = None  # the time as typed
    date_only: bool = False  # the time was a date alone (read as midnight)


class Change(DomainModel):
    time: str
    value: float | None  # in the analyte's canonical (default) unit; None when censored
    value_text: str  # as shown, e.g. "150 ×10⁹/L" or "> 40000 ng/mL"
    unit: str
    change_from_first: float | None = None
    change_from_first_percent: float | None = None
    change_from_previous: float | None = None
    change_from_previous_percent: float | None = None
    per_day_from_previous: float | None = None  # absolute change per 24 h since the previous value
    direction: Literal["up", "down", "same"] | None = None  # from the previous value
    row: int | None = None  # the panel's position as entered
    input: str | None = None  # as typed, with the unit it was typed in, e.g. "3.6 g/L"
    op: Literal[">", ">=", "<", "<="] | None = None  # censored result: the comparator …
    bound: float | None = None  # … and the bound, in the default unit (4 significant digits)
    days_from_previous: float | None = None  # elapsed time since the previous value, in days (4 dp)


class UserAlert(DomainModel):
    """An alert level the USER set for one lab (no published cut-off exists, Ravelli 2016).

    kind: `percent_from_previous` / `percent_from_first` (level in %, negative = a fall of at least
    that much, positive = a rise of at least that much), or `value_below` / `value_above` (level in
    `unit`, default unit when not given).
    """

    model_config = ConfigDict(extra="forbid")
    analyte: str
    kind: Literal["percent_from_previous", "percent_from_first", "value_below", "value_above"]
    level: float
    unit: str | None = None


class AlertHit(DomainModel):
    analyte: str
    time: str
    row: int | None
    kind: str
    level: float
    observed: float | None  # the percent change, or the value in the level's unit
    label: str  # always says the level is the user's own


class TrendResult(DomainModel):
    points: list[TrendPoint]
    changes: dict[str, list[Change]]
    first_met: dict[str, str | None]
    first_met_after_indeterminate: dict[str, str | None] = Field(default_factory=dict)
    first_indeterminate: dict[str, str | None] = Field(default_factory=dict)
    ferritin_esr: list[dict] = Field(default_factory=list)  # [{"time", "ratio", "status"}]
    warnings: list[SeriesWarning] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    alerts: list[AlertHit] = Field(default_factory=list)  # hits of the user's own alert levels
    references: dict[str, ReferenceOut] = Field(default_factory=dict)
