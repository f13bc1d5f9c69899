"""The projector stage: a full-screen slide without the app's chrome, fitted to any screen.

Shown when the page's URL has `?stage=1` (app.py then hides the navigation). The slide is laid
out on a fixed 1280 × 720 canvas (stage.CANVAS) and scaled by a small script to the window, so a
1920 × 1080 projector or a laptop at 150 % zoom shows the same slide and nothing ever scrolls. The
type starts at 32 px on the canvas (a short slide is read from the back of the room) and the
script steps it down until the slide's content fits, in height and width. Streamlit's header,
toolbar, sidebar and page padding are hidden by CSS that is drawn only in this view.

Keys: → or Page Down (what presentation clickers send) move on, ← or Page Up move back, Home goes to
the start, Esc leaves the stage (Streamlit's own button shortcuts; the Page Up/Down buttons are
hidden duplicates, as one button takes one shortcut).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from mas_screen.faces.teaching.stage import CANVAS

W, H = CANVAS
PAD_X = 44  # the slide's side padding (STAGE_CSS)
CHART_PX = W - 2 * PAD_X  # a chart as wide as the slide's body
STAGE_PARAM = "stage"

STAGE_CSS = f"""
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
footer {{ display: none !important; }}
[data-testid="stMain"] {{ overflow: hidden !important; }}
[data-testid="stMainBlockContainer"] {{ padding: 0 !important; max-width: none !important; }}
.st-key-stage {{
  position: fixed !important; left: 0; top: 0; z-index: 999990;
  width: {W}px !important; min-width: {W}px !important; max-width: none !important;
  height: {H}px !important; flex: none !important; box-sizing: border-box;
  padding: 20px {PAD_X}px 14px {PAD_X}px; gap: 0.4rem !important; overflow: hidden; background: #fff;
  transform-origin: 0 0;
  transform: translate(var(--stage-x, 0px), var(--stage-y, 0px)) scale(var(--stage-scale, 1));
  display: flex !important; flex-direction: column !important; flex-wrap: nowrap !important;
}}
.st-key-stage > div {{ flex: none; }}
.st-key-stage > div:has(.st-key-stage_body), .st-key-stage > .st-key-stage_body {{
  flex: 1 1 auto !important; min-height: 0 !important; overflow: hidden !important;
}}
.st-key-stage_body {{ height: 100%; overflow: hidden !important; gap: 0.55rem !important; }}
.st-key-stage_body p, .st-key-stage_body li {{
  font-size: var(--stage-font, 26px) !important; line-height: 1.38 !important; margin-bottom: 0.25em;
}}
.st-key-stage_body td, .st-key-stage_body th {{
  font-size: calc(var(--stage-font, 26px) * 0.88) !important; line-height: 1.25 !important;
  padding: 0.22em 0.6em !important; white-space: nowrap;
}}
.st-key-stage_body table {{ width: auto; }}
.st-key-stage_body h2 {{ font-size: calc(var(--stage-font, 26px) * 1.5) !important; line-height: 1.15 !important;
  padding: 0 0 0.2em 0 !important; }}
.st-key-stage_body h3 {{ font-size: calc(var(--stage-font, 26px) * 1.15) !important; padding: 0 !important; }}
.st-key-stage_body [data-testid="stCaptionContainer"] p {{ font-size: calc(var(--stage-font, 26px) * 0.7) !important; }}
.st-key-stage_head p {{ font-size: 15px !important; color: #666; margin: 0; }}
.st-key-stage_bar {{ align-items: center; }}
.st-key-stage_bar p {{ font-size: 15px !important; }}
.st-key-stage_keys {{ display: none !important; }}
/* Charts: Streamlit sizes a plotly figure from its box as measured on screen, which on a scaled
   slide would be scaled twice. The chart's box is scaled back (so it measures at the figure's own
   size and plotly lays the figure out as designed) and the drawing is scaled with the slide. */
.st-key-stage [class*="st-key-stagechart_"] {{ transform: scale(calc(1 / var(--stage-scale, 1))); transform-origin: 0 0; }}
.st-key-stage [class*="st-key-stagechart_"] * {{ overflow: visible !important; }}
.st-key-stage [class*="st-key-stagechart_"] .svg-container {{ transform: scale(var(--stage-scale, 1)); transform-origin: 0 0; }}
</style>
"""

# Scale the canvas to the window (centred), then step the type down while the slide overflows.
STAGE_JS = f"""
<script>
(() => {{
  if (window.__masStageFit) {{ window.__masStageFit(); return; }}
  const W = {W}, H = {H};
  let busy = false;
  const fit = () => {{
    const stage = document.querySelector('.st-key-stage');
    if (!stage || busy) return;
    busy = true;
    const s = Math.min(innerWidth / W, innerHeight / H);
    stage.dataset.scale = s;
    stage.style.setProperty('--stage-scale', s);
    stage.style.setProperty('--stage-x', Math.max(0, (innerWidth - W * s) / 2) + 'px');
    stage.style.setProperty('--stage-y', Math.max(0, (innerHeight - H * s) / 2) + 'px');
    const body = stage.querySelector('.st-key-stage_body');
    if (body) {{
      let size = 32;  // as large as the slide allows: a short text reads from the back of the room
      body.style.setProperty('--stage-font', size + 'px');
      const over = () => body.scrollHeight > body.clientHeight + 1 || body.scrollWidth > body.clientWidth + 1;
      while (over() && size > 14) {{
        size -= 1;
        body.style.setProperty('--stage-font', size + 'px');
      }}
      stage.dataset.fontPx = size;
    }}
    busy = false;
  }};
  window.__masStageFit = fit;
  addEventListener('resize', fit);
  let queued = false;
  new MutationObserver(() => {{
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {{ queued = false; fit(); }});
  }}).observe(document.body, {{ childList: true, subtree: true, characterData: true }});
  fit();
}})();
</script>
"""


def stage_chart(fig, key: str) -> None:
    """A plotly figure on a slide, laid out at its own size on the canvas and scaled with the slide
    (an outer box of that size clips the scaled-back inner box, so it adds no overflow)."""
    width, height = int(fig.layout.width or CHART_PX), int(fig.layout.height or 450)
    size = f"width: {width}px !important; height: {height}px !important; flex: none !important;"
    st.markdown(
        f"<style>.st-key-stageclip_{key} {{ {size} overflow: hidden !important; }} "
        f".st-key-stagechart_{key} {{ {size} }}</style>",
        unsafe_allow_html=True,
    )
    with st.container(key=f"stageclip_{key}"), st.container(key=f"stagechart_{key}"):
        st.plotly_chart(
            fig,
            key=key,
            width="stretch",
            theme=None,
            config={"displaylogo": False, "displayModeBar": False, "staticPlot": True},
        )


def on_stage() -> bool:
    return st.query_params.get(STAGE_PARAM) == "1"


def enter_stage() -> None:
    st.query_params[STAGE_PARAM] = "1"


def leave_stage() -> None:
    st.query_params.pop(STAGE_PARAM, None)


def stage_frame(
    heading: str,
    position: str,
    *,
    next_label: str | None,
    on_next: Callable[[], None],
    on_back: Callable[[], None],
    on_home: Callable[[], None],
    back_disabled: bool,
    key: str = "stage",
):
    """Draw the stage's chrome (a small heading line, the Back/Next bar with key shortcuts, Exit)
    and return the slide's body container."""
    st.markdown(STAGE_CSS, unsafe_allow_html=True)
    st.html(STAGE_JS, unsafe_allow_javascript=True)
    with st.container(key=key):
        with st.container(key=f"{key}_head", horizontal=True):
            st.markdown(f"{heading} · {position}")
        body = st.container(key=f"{key}_body")
        with st.container(key=f"{key}_bar", horizontal=True, vertical_alignment="center"):
            st.button(
                "Back",
                key=f"{key}_back",
                icon=":material/arrow_back:",
                on_click=on_back,
                disabled=back_disabled,
                shortcut="Left",
            )
            if next_label is not None:
                st.button(f"{next_label} ▶", key=f"{key}_next", type="primary", on_click=on_next, shortcut="Right")
            else:
                st.button("End", key=f"{key}_end", disabled=True, type="primary")
            st.button("Start", key=f"{key}_home", icon=":material/first_page:", on_click=on_home, shortcut="Home")
            st.button(
                "Exit stage",
                key=f"{key}_exit",
                icon=":material/close_fullscreen:",
                on_click=leave_stage,
                shortcut="Esc",
            )
            st.markdown(":gray[← → or Page Up / Page Down to move · Esc to leave]")
        with st.container(key=f"{key}_keys"):  # clickers send Page Up / Page Down: hidden twins
            st.button(
                "Next (Page Down)",
                key=f"{key}_pgdn",
                on_click=on_next,
                shortcut="PageDown",
                disabled=next_label is None,
            )
            st.button("Back (Page Up)", key=f"{key}_pgup", on_click=on_back, shortcut="PageUp", disabled=back_disabled)
    return body
