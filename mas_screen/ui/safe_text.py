"""Text that came from someone else (a typed value, a file's column name, a FHIR message) shown
literally in Streamlit markdown: no emphasis, links, images, LaTeX, HTML entities, emoji or icons
made from it, so nothing typed can change the page or make the browser fetch an address."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")
# Streamlit turns ":material/name:", ":name:" (emoji, also ":+1:" and ":100:") and ":colour[…]" into
# icons, emoji and colour even after a backslash escape: it rewrites ":material/" in the source and
# matches shortcodes in the rendered text. An invisible WORD JOINER after such a colon breaks every
# shortcode and leaves the text as it reads.
WORD_JOINER = "\u2060"
_SHORTCODE_COLON = re.compile(r":(?=[^\W\d]|[+\-/]|\d+:)")


def plain_markdown(text: str) -> str:
    """Text from a file (a name, a FHIR message) shown literally in Streamlit markdown: no emphasis,
    links, LaTeX, entities ("&lt;b&gt;" stays as typed) or shortcodes made from what someone else
    wrote. A URL-like token (a coding system) becomes a code span, which the renderer does not turn
    into a link."""
    parts = []
    for token in re.split(r"(\S+://\S+)", text):
        if "://" in token:
            parts.append("`" + token.replace("`", "'").replace(":material/", ":" + WORD_JOINER + "material/") + "`")
        else:
            token = _SHORTCODE_COLON.sub(":" + WORD_JOINER, token)
            parts.append(_MARKDOWN.sub(r"\\\1", token))
    return "".join(parts)
