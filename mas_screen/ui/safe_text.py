"""Text that came from someone else (a typed value, a file's column name, a FHIR message) shown
literally in Streamlit markdown: no emphasis, links, images or LaTeX made from it, so nothing typed
can make the browser fetch an address."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def plain_markdown(text: str) -> str:
    """Text from a file (a name, a FHIR message) shown literally in Streamlit markdown: no emphasis,
    links or LaTeX made from what someone else wrote. A URL-like token (a coding system) becomes a
    code span, which the renderer does not turn into a link."""
    parts = []
    for token in re.split(r"(\S+://\S+)", text):
        if "://" in token:
            parts.append("`" + token.replace("`", "'") + "`")
        else:
            parts.append(_MARKDOWN.sub(r"\\\1", token))
    return "".join(parts)
