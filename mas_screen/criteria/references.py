"""Citation lookup and formatting from references/references.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mas_screen.criteria.loading import criteria, per_load

if TYPE_CHECKING:
    from mas_screen.criteria.schema_policy import Reference


def reference(key: str) -> Reference:
    return criteria().references[key]


def short_citation(key: str) -> str:
    """'Ravelli 2016' — first author's surname and year, for inline caveats."""
    ref = reference(key)
    surname = ref.authors.split(",")[0].split()[0] if ref.authors else key
    return f"{surname} {ref.year}"


@per_load
def full_citation(key: str) -> str:
    """Vancouver-style citation: authors. Title. Journal Year;Vol(Issue):Pages. doi:…"""
    ref = reference(key)
    parts = [ref.authors.rstrip("."), ref.title.rstrip(".")]
    source = ref.journal or ref.publisher
    where = f"{source} {ref.year}" if source else f"{ref.year}"
    if ref.volume:
        where += f";{ref.volume}"
        if ref.issue:
            where += f"({ref.issue})"
        if ref.pages:
            where += f":{ref.pages}"
    parts.append(where)
    text = ". ".join(parts) + "."
    if ref.doi:
        text += f" doi:{ref.doi}"
    return text


@per_load
def compact_citation(key: str) -> str:
    """First author et al., journal, year;volume(issue):pages, DOI — for print where space is short."""
    ref = reference(key)
    if not ref.journal:
        return full_citation(key)
    first = ref.authors.split(",")[0].strip().rstrip(".")
    authors = first + (" et al." if "," in ref.authors or "et al" in ref.authors else "")
    full = full_citation(key)
    tail = full.split(". ")[-1] if ref.doi is None else full[full.rfind(". ", 0, full.find(" doi:")) + 2 :]
    return f"{authors} {tail}"


def link(key: str) -> str | None:
    ref = reference(key)
    if ref.url:
        return ref.url
    return f"https://doi.org/{ref.doi}" if ref.doi else None
