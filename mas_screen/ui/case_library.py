"""The case library of this browser session: the cases shipped in cases/ plus any an educator added
(uploaded or written on the Write page). Added cases live in the session's state only; nothing
is written to the server's disk, and they are gone when the session ends."""

from __future__ import annotations

import streamlit as st

from mas_screen.faces.teaching.library import practice_order
from mas_screen.faces.teaching.loading import load_cases
from mas_screen.faces.teaching.schema import Case

SESSION_CASES = "session_cases"  # case id -> Case, added in this browser session
MAX_SESSION_CASES = 200


def session_cases() -> dict[str, Case]:
    return st.session_state.setdefault(SESSION_CASES, {})


def library() -> list[Case]:
    """Every case this session can use, in practice order (introductory cases in children first),
    the session's own cases last."""
    added = list(session_cases().values())
    return practice_order(load_cases()) + added


def find(case_id: str) -> Case:
    added = session_cases()
    if case_id in added:
        return added[case_id]
    for case in load_cases():
        if case.id == case_id:
            return case
    raise KeyError(case_id)


def reserved_ids() -> set[str]:
    """Ids an added case may not take: the shipped library's (the session's own may be replaced)."""
    return {c.id for c in load_cases()}


def add_cases(cases: list[Case]) -> list[str]:
    """Add (or replace) cases in this session's library; returns the ids added. Refuses beyond
    MAX_SESSION_CASES (a session's memory is bounded)."""
    added = session_cases()
    out = []
    for case in cases:
        if case.id not in added and len(added) >= MAX_SESSION_CASES:
            break
        added[case.id] = case
        out.append(case.id)
    return out


def remove_case(case_id: str) -> None:
    session_cases().pop(case_id, None)
