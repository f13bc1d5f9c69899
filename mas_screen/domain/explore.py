"""What-if results as data: a value that flips a result (Flip, with the items it changes) and an entered
value against a published threshold (Distance); pydantic models shared by the explore face and render."""

from __future__ import annotations

from typing import Literal

from mas_screen.domain.models import DomainModel, Status


class ItemChange(DomainModel):
    """An item of the instrument whose result or points differ after the change."""

    id: str  # path, e.g. 'cytopenias.platelets'
    label: str
    threshold: str | None
    from_result: str
    to_result: str
    from_points: float | None = None
    to_points: float | None = None


class Flip(DomainModel):
    input: str  # lab key or context field
    label: str
    kind: Literal["lab", "number", "flag"]
    from_value: float | bool | None  # None: not entered (or left out as a bad value, or censored)
    from_text: str  # as entered, e.g. '2500 ng/mL', 'yes', 'not entered'
    to_value: float | bool
    to_text: str
    unit: str | None  # unit of from/to values (labs: as entered, default unit when not entered)
    direction: Literal["up", "down"] | None = None  # numbers: the flip holds at to_value and beyond
    distance: float | None = None  # |to - from| in `unit`
    relative_percent: float | None = None  # distance as % of |from| (2 dp); None when from is missing or 0
    from_status: Status
    new_status: Status
    items_changed: list[ItemChange]


class Distance(DomainModel):
    """One entered value against one published threshold (or a score against its cut-off)."""

    instrument: str
    instrument_name: str
    kind: Literal["threshold", "band_edge", "score"]
    item_id: str | None  # path, e.g. 'cytopenias.platelets'; None for a score
    label: str
    input: str | None  # the input key the value comes from (None for a score)
    value: float  # in the threshold's published unit
    unit: str | None
    comparator: str
    threshold: float
    threshold_text: str
    distance: float  # value - threshold, in `unit`
    relative_percent: float | None  # distance as % of |threshold| (2 dp); None when the threshold is 0
    satisfied: bool  # the comparator holds for the value
    item_result: str | None  # the item's (or instrument's) result in the assessment
    points: float | None = None  # band edges: the points on the satisfied side of this edge
