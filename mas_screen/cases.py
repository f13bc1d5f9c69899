"""Teaching cases: compatibility names for `mas_screen.faces.teaching` (schema, claims, grading).

New code imports from the modules themselves; this module keeps the older import path working.
"""

from __future__ import annotations

from mas_screen.faces.teaching.claims import (
    INTERPRETATION_RULE,
    RHEUMATIC_DISEASES,
    CaseResult,
    ClaimFailure,
    case_series,
    check_case,
    check_claims,
    compute,
    derive_interpretation,
    find_item,
    near_miss_check,
    published_value_problems,
    warning_codes,
)
from mas_screen.faces.teaching.grading import (
    Feedback,
    PracticeAnswer,
    grade,
    model_answer,
    own_instruments,
    teaching_points_out,
)
from mas_screen.faces.teaching.schema import (
    CASES_DIR,
    CONSTRUCTED,
    Case,
    CaseDataError,
    CasePanel,
    Claim,
    Problem,
    case_by_id,
    load_case_file,
    load_cases,
    read_case_text,
)

__all__ = [
    "CASES_DIR",
    "CONSTRUCTED",
    "INTERPRETATION_RULE",
    "RHEUMATIC_DISEASES",
    "Case",
    "CaseDataError",
    "CasePanel",
    "CaseResult",
    "Claim",
    "ClaimFailure",
    "Feedback",
    "PracticeAnswer",
    "Problem",
    "case_by_id",
    "case_series",
    "check_case",
    "check_claims",
    "compute",
    "derive_interpretation",
    "find_item",
    "grade",
    "load_case_file",
    "load_cases",
    "model_answer",
    "near_miss_check",
    "own_instruments",
    "published_value_problems",
    "read_case_text",
    "teaching_points_out",
    "warning_codes",
]
