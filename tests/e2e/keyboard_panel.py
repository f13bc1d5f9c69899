"""A person entering a full sJIA panel by keyboard on the bedside page (issue 12, point 4).

20 entries: underlying disease, age, febrile; 12 labs (two in SI units, given by typing the unit
after the number); 5 yes/no findings. Every key is counted. Used by the e2e test (no delays,
waits derived from readiness) and by benchmarks/bench_keyboard.py (160 ms per character and
1 s to read each value off the report, as a person would).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from playwright.sync_api import Page

# (what is entered, keys typed into the focused field, Tabs that follow to reach the next entry)
# Tabs > 1 pass fields this panel leaves blank (D-dimer; sCD25 and temperature; organ sizes in cm).
DISEASE_KEYS = "sys"  # the selectbox filters as you type; Enter takes the first match
PANEL: tuple[tuple[str, str, int], ...] = (
    ("Age (years)", "7", 1),
    ("Febrile in this illness", "y", 1),
    ("Haemoglobin", "9.8", 1),
    ("White cell count", "4.1", 1),
    ("Neutrophil count (absolute)", "2.3", 1),
    ("Platelet count", "132", 1),
    ("Ferritin", "5400", 1),
    ("AST", "96", 1),
    ("ALT", "74", 1),
    ("LDH", "820", 1),
    ("Triglycerides", "2.9 mmol/L", 1),
    ("Fibrinogen", "1.6 g/L", 2),
    ("ESR", "12", 1),
    ("CRP", "4.8", 3),
    ("Hepatomegaly", "n", 2),
    ("Splenomegaly", "y", 2),
    ("CNS involvement / dysfunction", "n", 1),
    ("Haemorrhagic manifestations", "n", 1),
    ("Active arthritis", "n", 0),
)
EXPECTED_LABS = {
    "hemoglobin": "9.8",
    "wbc": "4.1",
    "neutrophils": "2.3",
    "platelets": "132",
    "ferritin": "5400",
    "ast": "96",
    "alt": "74",
    "ldh": "820",
    "triglycerides": "2.9 mmol/L",
    "fibrinogen": "1.6 g/L",
    "esr": "12",
    "crp": "4.8",
}
EXPECTED_ANSWERS = {
    "febrile": "Yes",
    "hepatomegaly": "No",
    "splenomegaly": "Yes",
    "cns_involvement": "No",
    "hemorrhagic_manifestations": "No",
    "active_arthritis": "No",
}
ENTRIES = 1 + len(PANEL)  # the disease, then the panel


def focused_label(page: Page) -> str:
    """The accessible name of the focused field (aria-label, its <label>, or its group's label)."""
    return page.evaluate(
        """() => {
        const e = document.activeElement; if (!e) return '';
        const group = e.closest('[role="radiogroup"]');
        if (group) return group.getAttribute('aria-label') || '';
        return e.getAttribute('aria-label') || (e.labels && e.labels[0] ? e.labels[0].innerText : '') || '';
    }"""
    ).strip()


@dataclass
class Entry:
    keystrokes: int = 0
    seconds: float = 0.0
    wrong_focus: list[str] = field(default_factory=list)


def enter_panel(page: Page, *, char_ms: int = 0, read_ms: int = 0, settle=None) -> Entry:
    """Type the panel from the first field (focused on load). `settle(page)` (optional) runs after
    each committing key: a test waits for the app there; a person does not (benchmark: None).
    Returns the key count, the time taken and any entry whose field did not have focus."""
    out = Entry()
    keyboard = page.keyboard

    def press(key: str) -> None:
        keyboard.press(key)
        out.keystrokes += 1
        if char_ms:
            page.wait_for_timeout(char_ms)

    def type_text(text: str) -> None:
        for ch in text:
            keyboard.type(ch)
            out.keystrokes += 1
            if char_ms:
                page.wait_for_timeout(char_ms)

    start = time.perf_counter()
    if read_ms:
        page.wait_for_timeout(read_ms)
    if focused_label(page) != "Underlying disease":
        out.wrong_focus.append(f"Underlying disease (focus on {focused_label(page)!r})")
    type_text(DISEASE_KEYS)
    press("Enter")
    press("Tab")
    if settle:
        settle(page)
    for label, keys, tabs in PANEL:
        if read_ms:
            page.wait_for_timeout(read_ms)
        if focused_label(page) != label:
            out.wrong_focus.append(f"{label} (focus on {focused_label(page)!r})")
        type_text(keys)
        for _ in range(tabs):
            press("Tab")
            if settle:
                settle(page)
    out.seconds = time.perf_counter() - start
    return out


# The form's label of each lab in EXPECTED_LABS (to read back what landed in each field).
LAB_LABELS = {
    "hemoglobin": "Haemoglobin",
    "wbc": "White cell count",
    "neutrophils": "Neutrophil count (absolute)",
    "platelets": "Platelet count",
    "ferritin": "Ferritin",
    "ast": "AST",
    "alt": "ALT",
    "ldh": "LDH",
    "triglycerides": "Triglycerides",
    "fibrinogen": "Fibrinogen",
    "esr": "ESR",
    "crp": "CRP",
}
