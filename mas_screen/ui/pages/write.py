"""Write a case: a guided form or pasted YAML, checked as you go (every schema error with its field
and line), the computed findings and a practice preview, the YAML to download, and cases added
to this browser session's library (one YAML, or a folder zipped). Nothing is stored on the server.

The checking, the form-to-case conversion and the upload limits are in the core
(`faces.teaching.authoring`, `faces.teaching.upload`); this page draws them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mas_screen.criteria.loading import criteria
from mas_screen.domain.models import BIOLOGIC_LABELS, BOOLEAN_FIELDS, DISEASE_LABELS, field_label
from mas_screen.faces.teaching.authoring import case_data, check_text, dump_case, from_form, starter_case
from mas_screen.faces.teaching.grading import grade, model_answer, own_instruments, shuffled_next_steps
from mas_screen.faces.teaching.library import neutral_name
from mas_screen.faces.teaching.schema import DOI, READING_LABELS, THEME_LABELS, Case, Problem
from mas_screen.faces.teaching.upload import MAX_UPLOAD_BYTES, MAX_ZIP_FILES, read_upload
from mas_screen.ui.case_library import add_cases, library, remove_case, reserved_ids, session_cases
from mas_screen.ui.case_stage import criteria_table
from mas_screen.ui.safe_text import plain_markdown
from mas_screen.ui.state import LAB_ORDER
from mas_screen.ui.teaching_views import case_panels, labs_table, panel_name, reading_view, score_banner, text

YAML_KEY = "author_yaml"
SEED = "author_seed"  # the case data the guided form starts from
VERSION = "author_form_version"  # bumped to reset the form's tables to a new seed
NOTICE = "author_notice"
UPLOAD_RESULT = "author_upload_result"
BLANK = "__starter__"
DRIVERS = ["rheumatic_disease", "infection", "malignancy", "inborn_error", "drug", "unknown"]
GRADES = ["best", "acceptable", "unhelpful"]
TRI = ["unknown", "yes", "no"]
MAX_PANELS = 8


def init_state() -> None:
    state = st.session_state
    if SEED not in state:
        state[SEED] = starter_case()
    state.setdefault(VERSION, 0)
    state.setdefault(YAML_KEY, dump_case(state[SEED]))
    state.setdefault(NOTICE, None)


# ----------------------------------------------------------------------------------- start from


def _form_key(name: str) -> str:
    return f"af_{name}_{st.session_state[VERSION]}"


def load_seed() -> None:
    """Fill the guided form and the YAML from the starter or a library case (a copy: the id is
    changed, a library case's id is taken)."""
    state = st.session_state
    choice = state.get("author_start")
    if choice in (None, BLANK):
        data = starter_case()
    else:
        data = case_data(next(c for c in library() if c.id == choice))
        data["id"] = f"{choice}_copy"
    state[SEED] = data
    state[VERSION] += 1
    state[YAML_KEY] = dump_case(data)
    state[NOTICE] = ("info", "Loaded into the form and the YAML. Change the id before you share it.")


# ---------------------------------------------------------------------------------- guided form


def _labs_frame(panel: dict) -> pd.DataFrame:
    analytes = criteria().analytes.analytes
    order = [a for _g, group in LAB_ORDER for a in group if a in analytes]
    rows = []
    for a in order:
        raw = (panel.get("labs") or {}).get(a)
        value, unit = (raw.get("value"), raw.get("unit")) if isinstance(raw, dict) else (raw, None)
        rows.append(
            {
                "Lab": analytes[a].label,
                "Value": "" if value is None else str(value),
                "Unit": unit or analytes[a].default_unit,
            }
        )
    return pd.DataFrame(rows, index=order)


def _steps_frame(panel: dict) -> pd.DataFrame:
    rows = [
        {
            "id": s.get("id", ""),
            "text": s.get("text", ""),
            "grade": s.get("grade", "acceptable"),
            "rationale": s.get("rationale", ""),
            "references": ", ".join(s.get("references") or []),
        }
        for s in panel.get("next_steps") or []
    ]
    return pd.DataFrame(rows or [{"id": "", "text": "", "grade": "best", "rationale": "", "references": ""}])


def _points_frame(seed: dict) -> pd.DataFrame:
    rows = [
        {"text": tp.get("text", ""), "citation": tp.get("citation", "")} for tp in seed.get("teaching_points") or []
    ]
    return pd.DataFrame(rows or [{"text": "", "citation": ""}])


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def guided_form() -> None:
    state = st.session_state
    seed = state[SEED]
    refs = sorted(criteria().references)
    ctx = seed.get("context") or {}
    panels_seed = seed.get("panels") or [{}]
    count = st.number_input(
        "Number of panels",
        min_value=1,
        max_value=MAX_PANELS,
        value=len(panels_seed),
        key=_form_key("count"),
        help="Each panel is one dated set of labs; later panels tell what happened since.",
    )
    with st.form("author_form", border=True):
        c1, c2 = st.columns([1, 2])
        c1.text_input("Case id (file name: lower case, digits, _)", value=seed.get("id", ""), key=_form_key("id"))
        c2.text_input(
            "Title (hidden from trainees until they finish)", value=seed.get("title", ""), key=_form_key("title")
        )
        purpose = (seed.get("source") or {}).get("purpose", "") if isinstance(seed.get("source"), dict) else ""
        st.text_input(
            "Teaching purpose (a constructed case; a published source is written in the YAML)",
            value=purpose,
            key=_form_key("purpose"),
        )
        c1, c2, c3 = st.columns([3, 1, 1.4])
        c1.multiselect(
            "Themes",
            list(THEME_LABELS),
            default=seed.get("themes") or [],
            format_func=THEME_LABELS.get,
            key=_form_key("themes"),
        )
        c2.selectbox(
            "Difficulty", [1, 2, 3], index=[1, 2, 3].index(seed.get("difficulty") or 1), key=_form_key("difficulty")
        )
        driver = seed.get("driver") or "rheumatic_disease"
        c3.selectbox(
            "Driver",
            DRIVERS,
            index=DRIVERS.index(driver),
            key=_form_key("driver"),
            format_func=lambda d: d.replace("_", " "),
        )
        st.text_area(
            "Story: the presentation only (3–6 sentences; later panels tell what happened since)",
            value=seed.get("story", ""),
            key=_form_key("story"),
            height=110,
        )
        st.markdown("**The patient** (blank or 'unknown' means not known, never 'no')")
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input(
            "Age (years)",
            min_value=0.0,
            max_value=120.0,
            value=_float(ctx.get("age_years")),
            step=1.0,
            key=_form_key("age"),
        )
        c2.number_input(
            "Age at onset (years)",
            min_value=0.0,
            max_value=120.0,
            value=_float(ctx.get("age_at_onset_years")),
            step=1.0,
            key=_form_key("onset"),
        )
        diseases = list(DISEASE_LABELS)
        c3.selectbox(
            "Underlying disease",
            diseases,
            index=diseases.index(ctx.get("underlying_disease", "unknown")),
            format_func=DISEASE_LABELS.get,
            key=_form_key("disease"),
        )
        biologics = list(BIOLOGIC_LABELS)
        c4.selectbox(
            "Biologic therapy",
            biologics,
            index=biologics.index(ctx.get("biologic_therapy", "unknown")),
            format_func=BIOLOGIC_LABELS.get,
            key=_form_key("biologic"),
        )
        cols = st.columns(4)
        for k, field in enumerate(BOOLEAN_FIELDS):
            answer = {True: "yes", False: "no"}.get(ctx.get(field), "unknown")
            cols[k % 4].selectbox(field_label(field), TRI, index=TRI.index(answer), key=_form_key(f"ctx_{field}"))
        tabs = st.tabs([f"Panel {i + 1}" for i in range(int(count))])
        for i, tab in enumerate(tabs):
            p = panels_seed[i] if i < len(panels_seed) else {}
            answer = p.get("answer") or {}
            with tab:
                c1, c2, c3 = st.columns([1.4, 1.4, 1])
                c1.text_input("Time (ISO, e.g. 2026-02-02T08:00)", value=p.get("time", ""), key=_form_key(f"time_{i}"))
                c2.text_input("Label", value=p.get("label", ""), key=_form_key(f"label_{i}"))
                c3.text_input(
                    "Short label (≤ 12, for the projector)",
                    value=p.get("short_label", ""),
                    key=_form_key(f"short_{i}"),
                    max_chars=12,
                )
                if i > 0:
                    st.text_area(
                        "What happened since the previous panel",
                        value=p.get("story", ""),
                        key=_form_key(f"story_{i}"),
                        height=70,
                    )
                st.data_editor(
                    _labs_frame(p),
                    key=_form_key(f"labs_{i}"),
                    hide_index=True,
                    width="stretch",
                    disabled=["Lab"],
                    height=300,
                    column_config={
                        "Value": st.column_config.TextColumn("Value (blank: not done)"),
                        "Unit": st.column_config.TextColumn("Unit"),
                    },
                )
                readings = list(READING_LABELS)
                st.selectbox(
                    "Your reading of this panel",
                    readings,
                    index=readings.index(answer["reading"]) if answer.get("reading") in readings else 0,
                    format_func=READING_LABELS.get,
                    key=_form_key(f"reading_{i}"),
                )
                st.text_area(
                    "Why (shown in feedback)", value=answer.get("rationale", ""), key=_form_key(f"why_{i}"), height=90
                )
                st.multiselect(
                    "Sources of the reading (citation keys)",
                    refs,
                    default=[r for r in answer.get("references") or [] if r in refs],
                    key=_form_key(f"refs_{i}"),
                )
                st.markdown("**Next steps, ranked** (3 to 6; at least one best; shown shuffled to trainees)")
                st.data_editor(
                    _steps_frame(p),
                    key=_form_key(f"steps_{i}"),
                    num_rows="dynamic",
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "grade": st.column_config.SelectboxColumn("grade", options=GRADES, required=True),
                        "references": st.column_config.TextColumn("references (keys, comma-separated)"),
                    },
                )
        st.markdown("**Teaching points** (each with a citation key from references.yaml)")
        st.data_editor(
            _points_frame(seed),
            key=_form_key("points"),
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config={"citation": st.column_config.SelectboxColumn("citation", options=refs)},
        )
        st.text_area(
            "Learning objectives (one per line)",
            value="\n".join(seed.get("learning_objectives") or []),
            key=_form_key("objectives"),
            height=80,
        )
        submitted = st.form_submit_button("Write the YAML and check it", type="primary", key="author_build")
    if submitted:
        kind, message = build_from_form(int(count))
        getattr(st, kind)(message)


def _editor_frame(key: str, base: pd.DataFrame) -> pd.DataFrame:
    """The table as edited (Streamlit keeps the edits apart from the data the editor started from)."""
    edits = st.session_state.get(key) or {}
    frame = base.copy()
    for row, changes in (edits.get("edited_rows") or {}).items():
        for column, value in changes.items():
            frame.iloc[int(row), frame.columns.get_loc(column)] = value
    drop = set(edits.get("deleted_rows") or [])
    frame = frame[[i not in drop for i in range(len(frame))]]
    added = [row for row in edits.get("added_rows") or [] if row]
    if added:
        frame = pd.concat([frame, pd.DataFrame(added)], ignore_index=True)
    return frame


def build_from_form(count: int) -> tuple[str, str]:
    state = st.session_state
    seed = state[SEED]
    panels_seed = seed.get("panels") or [{}]
    g = lambda name: state.get(_form_key(name))  # noqa: E731 - a short reader of this version's form fields
    meta = {k: g(k) for k in ("id", "title", "purpose", "themes", "difficulty", "driver", "story")}
    context = {
        "age_years": g("age"),
        "age_at_onset_years": g("onset"),
        "underlying_disease": g("disease"),
        "biologic_therapy": g("biologic"),
        **{field: g(f"ctx_{field}") for field in BOOLEAN_FIELDS},
    }
    panels = []
    for i in range(count):
        p = panels_seed[i] if i < len(panels_seed) else {}
        labs = _editor_frame(_form_key(f"labs_{i}"), _labs_frame(p))
        steps = _editor_frame(_form_key(f"steps_{i}"), _steps_frame(p))
        panels.append(
            {
                "time": g(f"time_{i}"),
                "label": g(f"label_{i}"),
                "short_label": g(f"short_{i}"),
                "story": g(f"story_{i}") if i > 0 else None,
                "labs": {a: (row["Value"], row["Unit"]) for a, row in labs.iterrows()},
                "reading": g(f"reading_{i}"),
                "rationale": g(f"why_{i}"),
                "references": g(f"refs_{i}"),
                "next_steps": steps.to_dict("records"),
            }
        )
    points = _editor_frame(_form_key("points"), _points_frame(seed)).to_dict("records")
    data = from_form(meta, context, panels, points, g("objectives") or "", base=seed)
    state[YAML_KEY] = dump_case(data)
    _case, problems = check_text(state[YAML_KEY], reserved_ids=reserved_ids())
    if problems:
        return "warning", f"YAML written. {len(problems)} problem(s) to fix: see 'YAML, check and preview'."
    return "success", "YAML written and checked: no problems. See 'YAML, check and preview' to preview and download it."


# ------------------------------------------------------------------------------ check & preview


def problems_view(problems: list[Problem], source: str | None = None) -> None:
    """Every problem with its line, field and, when the text is at hand, the line as written."""
    st.error(f"{len(problems)} problem(s). Each names the field and the line of the YAML.", icon=":material/rule:")
    lines = source.splitlines() if source else []
    rows = ["| Line | Field | Problem | The line reads |", "|---:|---|---|---|"]
    for p in problems:
        written = lines[p.line - 1].strip() if p.line and 0 < p.line <= len(lines) else ""
        shown = f"`{written[:80].replace('`', chr(39))}`" if written else ""
        rows.append(f"| {p.line or '—'} | `{p.field or '(whole file)'}` | {plain_markdown(p.message)} | {shown} |")
    st.markdown("\n".join(rows))


def findings_view(case: Case) -> None:
    st.markdown("#### What the criteria compute")
    for i, (time, _panel) in enumerate(case_panels(case)):
        st.markdown(f"**{text(panel_name(case, i))}**")
        criteria_table(case, time)


def practice_preview(case: Case) -> None:
    st.markdown("#### Practice preview: what a trainee sees at the first panel")
    with st.container(border=True, key="author_preview"):
        st.markdown(f"**{neutral_name(case, 1)}**")
        st.markdown(text(case.story))
        st.markdown(labs_table(case, 0))
        time = case_panels(case)[0][0]
        st.markdown("1\\. Reading: " + " · ".join(READING_LABELS.values()))
        st.markdown(
            "2\\. Which instruments apply · 4\\. which are met (graded: "
            + ", ".join(criteria().instruments[i].short_name for i in own_instruments(case.context.disease))
            + ")"
        )
        steps = shuffled_next_steps(case, time)
        if steps:
            st.markdown(
                "3\\. Next step, as shuffled for the trainee:\n" + "\n".join(f"- {text(s.text)}" for s in steps)
            )
        st.markdown("**Feedback for the model answer**")
        fb = grade(case, model_answer(case, time), time)
        score_banner(fb)
        reading_view(fb)


def yaml_editor() -> None:
    st.text_area(
        "The case in YAML (paste a case here, or write one with the form)",
        key=YAML_KEY,
        height=420,
        help="The format is docs/case-schema.md (version 2). Changes are checked when you leave the box.",
    )
    st.button("Check the case", key="author_check", icon=":material/fact_check:")
    raw = st.session_state.get(YAML_KEY) or ""
    if not raw.strip():
        st.info("Paste a case, or write one with the guided form.")
        return
    case, problems = check_text(raw, reserved_ids=reserved_ids())
    if problems:
        problems_view(problems, raw)
    if case is None:
        return
    if not problems:
        st.success(
            f"“{case.id}” passes every check: schema, references, claims and values.", icon=":material/check_circle:"
        )
    c1, c2 = st.columns([1, 2])
    c1.download_button(
        "Download the YAML",
        data=raw.encode("utf-8"),
        file_name=f"{case.id}.yaml",
        mime="application/x-yaml",
        key="author_download",
        icon=":material/download:",
        on_click="ignore",
    )
    c2.button(
        "Add it to this session's library",
        key="author_add",
        icon=":material/library_add:",
        on_click=add_written,
        args=(raw,),
        disabled=bool(problems),
    )
    findings_view(case)
    practice_preview(case)


def add_written(raw: str) -> None:
    case, problems = check_text(raw, reserved_ids=reserved_ids())
    if case is None or problems:
        st.session_state[NOTICE] = ("error", "Not added: fix the problems first.")
        return
    add_cases([case])
    st.session_state[NOTICE] = ("success", f"Added “{case.id}” to this session's library (Cases and Explore).")


# ----------------------------------------------------------------------------------------- upload


def on_upload() -> None:
    state = st.session_state
    files = state.get("author_upload") or []
    cases, problems, ignored = [], [], []
    for f in files:
        out = read_upload(f.name, f.getvalue(), reserved_ids=reserved_ids())
        cases += out.cases
        problems += out.problems
        ignored += out.ignored
    added = add_cases(cases)
    state[UPLOAD_RESULT] = {
        "added": added,
        "problems": problems,
        "ignored": ignored,
        "refused": len(cases) - len(added),
    }


def upload_section() -> None:
    st.markdown(
        f"Add cases to **this browser session's** library: a `.yaml` case, or a `.zip` of a folder of cases "
        f"(at most {MAX_ZIP_FILES} cases, {MAX_UPLOAD_BYTES // 1_000_000} MB). Each case is checked; nothing is "
        "stored on the server and the cases are gone when the session ends."
    )
    st.file_uploader(
        "Case files",
        type=["yaml", "yml", "zip"],
        accept_multiple_files=True,
        key="author_upload",
        on_change=on_upload,
        max_upload_size=max(1, MAX_UPLOAD_BYTES // 1_000_000),
    )
    result = st.session_state.get(UPLOAD_RESULT)
    if result:
        if result["added"]:
            st.success("Added: " + ", ".join(result["added"]) + ".", icon=":material/library_add_check:")
        if result["refused"]:
            st.warning(f"{result['refused']} case(s) not added: this session's library is full.")
        if result["ignored"]:
            st.caption("Not case files, ignored: " + plain_markdown(", ".join(result["ignored"][:20])))
        if result["problems"]:
            problems_view(result["problems"])
    mine = session_cases()
    if mine:
        st.markdown("**This session's own cases**")
        for case_id, case in list(mine.items()):
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            kind = "published" if case.published else "constructed"
            doi = f" · doi {case.source_doi}" if case.source_doi and DOI.match(case.source_doi) else ""
            c1.markdown(f"`{case_id}` · {text(case.title)} · {len(case.panels)} panel(s) · {kind}{doi}")
            c2.button("Remove", key=f"author_remove::{case_id}", on_click=remove_case, args=(case_id,), type="tertiary")


# ----------------------------------------------------------------------------------------- page


def render() -> None:
    init_state()
    st.markdown("## Write a case")
    st.caption(
        "For educators: write a case with the guided form or paste one in the case format "
        "(docs/case-schema.md), check it, see what the criteria compute and how a trainee meets it, and "
        "download the YAML. Findings are always computed, never typed. Nothing is stored on the server."
    )
    notice = st.session_state.get(NOTICE)
    if notice:
        getattr(st, notice[0])(notice[1])
        st.session_state[NOTICE] = None
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    ids = [BLANK, *(c.id for c in library())]
    c1.selectbox(
        "Start from",
        ids,
        key="author_start",
        format_func=lambda i: "A short starter case" if i == BLANK else f"A copy of {i}",
    )
    c2.button("Load", key="author_load", on_click=load_seed, icon=":material/input:", width="stretch")
    form_tab, yaml_tab, upload_tab = st.tabs(
        [
            ":material/edit: Guided form",
            ":material/code: YAML, check and preview",
            ":material/upload: Add cases to this session",
        ]
    )
    with form_tab:
        guided_form()
    with yaml_tab:
        yaml_editor()
    with upload_tab:
        upload_section()


render()
