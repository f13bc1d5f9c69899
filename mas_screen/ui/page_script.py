"""The bedside page's small browser script (a Streamlit v2 component, no iframe, no network); the
Trends and Explore pages mount it for the width only (`measured_width`: no focus, no form, so the
rest does nothing there).

What Streamlit widgets cannot say in Python, set in the page after each render:
- the first field has focus when the page opens (nothing else focused yet);
- help icons, heading anchors and unit selectors are not Tab stops (units: type them after the number, or the
  US/SI switch; a mouse or a finger still reaches both);
- number fields ask phones for the decimal keypad (inputmode="decimal");
- a focused yes/no/unknown answer takes y, n or u (one key, no answer passed through);
- room is kept above the title for the pinned headline strip (tablets, phones);
- the width available to the chart is reported back (rounded to 20 px), so the chart's labels
  are laid out for the width they are shown at (mas_screen.render.figures.label_layout); <html data-mas-layout>
  says "ready" once the page on screen was drawn for the width measured, "pending" until then.

Nothing is read from or sent to anywhere but this page's own Streamlit session.
"""

from __future__ import annotations

import streamlit as st

JS = r"""
export default function (component) {
  const { setStateValue, data } = component;
  const doc = document;
  const opts = data || {};
  const ANSWERS = { y: 'Yes', n: 'No', u: 'Unknown' };
  let lastWidth = null;

  function onAnswerKey(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const wanted = ANSWERS[(ev.key || '').toLowerCase()];
    if (!wanted) return;
    const group = ev.currentTarget;
    const label = [...group.querySelectorAll('label')].find((l) => l.innerText.trim() === wanted);
    if (!label) return;
    ev.preventDefault();
    const input = label.querySelector('input');
    if (input && !input.checked) label.click();
    const focusTarget = label.querySelector('input') || label;
    focusTarget.focus();
  }

  function tune() {
    const form = doc.querySelector(opts.form || '.st-key-assess_form');
    if (!form) return;
    form.querySelectorAll('[data-testid="stTooltipIcon"] button, [data-testid="stTooltipHoverTarget"] button')
      .forEach((b) => { if (b.tabIndex !== -1) b.tabIndex = -1; });
    doc.querySelectorAll('[data-testid="stMain"] [data-testid="stHeaderActionElements"] a')
      .forEach((a) => { if (a.tabIndex !== -1) a.tabIndex = -1; });
    form.querySelectorAll('[class*="st-key-unit--"] input')
      .forEach((i) => { if (i.tabIndex !== -1) i.tabIndex = -1; });
    form.querySelectorAll('[class*="st-key-lab--"] input, ' + (opts.numbers || '')
      .split(',').filter(Boolean).map((k) => '.st-key-' + k.trim() + ' input').join(', '))
      .forEach((i) => { if (i.type === 'text' && i.inputMode !== 'decimal') i.inputMode = 'decimal'; });
    form.querySelectorAll('[data-testid="stRadioGroup"]').forEach((g) => {
      if (!g.dataset.masAnswerKeys) {
        g.dataset.masAnswerKeys = '1';
        g.addEventListener('keydown', onAnswerKey);
      }
    });
    if (opts.focus && !window.__masFirstFocus && !window.__masUserActed) {
      const first = doc.querySelector(opts.focus + ' input');
      const active = doc.activeElement;
      if (first) {
        window.__masFirstFocus = true;
        if (!active || active === doc.body) first.focus();
      }
    }
  }

  function stripRoom() {
    // Room above the title for the pinned headline strip (its height changes with the text).
    // Measured folded (down to its summary line): opened, the strip lies over the page, which stays put.
    const strip = doc.querySelector('.st-key-assess_strip');
    let h = 0;
    if (strip) {
      const top = strip.getBoundingClientRect().top;
      const summary = strip.querySelector('summary');
      const bottom = summary ? summary.getBoundingClientRect().bottom : strip.getBoundingClientRect().bottom;
      const style = getComputedStyle(strip);
      const below = summary ? (parseFloat(style.paddingBottom) || 0) + (parseFloat(style.borderBottomWidth) || 0) : 0;
      h = Math.ceil(bottom - top + below);
    }
    const value = h + 'px';
    if (doc.documentElement.style.getPropertyValue('--mas-strip-height') !== value) {
      doc.documentElement.style.setProperty('--mas-strip-height', value);
    }
  }

  function reportWidth() {
    const box = doc.querySelector(opts.measure || '[data-testid="stMainBlockContainer"]');
    if (!box) return;
    const width = Math.round(box.getBoundingClientRect().width / 20) * 20;
    if (!(width > 0)) return;
    // 'ready' once the page on screen was drawn for this width (readiness for tests and tools).
    const layout = width === opts.known ? 'ready' : 'pending';
    if (doc.documentElement.dataset.masLayout !== layout) doc.documentElement.dataset.masLayout = layout;
    if (width !== lastWidth && width !== opts.known) {
      lastWidth = width;
      setStateValue('width', width);
    }
  }

  // Never move focus once the person has clicked, tapped or typed somewhere (first load only).
  if (!window.__masActListener) {
    window.__masActListener = true;
    const acted = () => { window.__masUserActed = true; };
    doc.addEventListener('pointerdown', acted, true);
    doc.addEventListener('keydown', acted, true);
  }
  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; tune(); stripRoom(); reportWidth(); });
  });
  observer.observe(doc.body, { childList: true, subtree: true });
  const resize = new ResizeObserver(() => { stripRoom(); reportWidth(); });
  const main = doc.querySelector('[data-testid="stMain"]');
  if (main) resize.observe(main);
  tune();
  stripRoom();
  reportWidth();
  return () => { observer.disconnect(); resize.disconnect(); };
}
"""

_component = st.components.v2.component("mas_screen.bedside_page_script", js=JS)


def page_script(*, focus: str, numbers: tuple[str, ...], measure: str, key: str = "bedside_page_script") -> int | None:
    """Mount the script; returns the last width it reported (None until it has, e.g. in AppTest).

    `focus`: CSS selector of the first field's container; `numbers`: keys of the non-lab number
    fields (sanitised as Streamlit does for its st-key- classes); `measure`: selector whose width
    the chart will be drawn at."""
    classes = ",".join(_css_key(k) for k in numbers)
    state = st.session_state.get(key)
    known = _width(state.get("width") if hasattr(state, "get") else None)  # what this run draws for
    result = _component(
        key=key,
        data={"focus": focus, "numbers": classes, "measure": measure, "form": ".st-key-assess_form", "known": known},
        on_width_change=lambda: None,
    )
    return _width(getattr(result, "width", None))


def measured_width(container: str, *, key: str) -> int | None:
    """The width (rounded to 20 px) the container keyed `container` is drawn at, once the page has
    reported it (None before, and in AppTest): for a page that wants only that from the script."""
    return page_script(focus="", numbers=(), measure=css_key(container), key=key)


def _width(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _css_key(key: str) -> str:
    """The class suffix Streamlit derives from a widget key (non [A-Za-z0-9_-] → '-')."""
    return "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in key.strip())


def css_key(key: str) -> str:
    """`.st-key-…` selector for a widget or container key."""
    return ".st-key-" + _css_key(key)
