"""Read YAML and remember where each value was written, so a schema error can name its line.

One parse (PyYAML's composer) gives the node tree with positions; the data is constructed from the
same nodes. Work is bounded by the text's size: anchors and aliases are refused (an alias bomb
expands a few lines into billions of values for any later walk), as are duplicate keys (YAML keeps
the last silently, so an author's first value would vanish), nesting deeper than MAX_DEPTH and
more than MAX_NODES values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_NODES = 50_000
MAX_DEPTH = 40

Path = tuple[str | int, ...]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """The text is not YAML a case can be read from; `line` is 1-based (None: the whole text)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(slots=True)
class LineMap:
    """Line (1-based) of each value by its path, e.g. ('panels', 0, 'labs', 'ferritin') -> 23."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of `path`, else of its nearest written parent (a missing field: the mapping)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "(a non-scalar key)"


def _walk(node: yaml.Node, path: Path, out: LineMap, seen: set[int], depth: int) -> None:
    if id(node) in seen:
        line = out.lines.get(path, node.start_mark.line + 1)  # where the alias is used
        raise YamlError("anchors and aliases (& and *) are not allowed in a case file", line)
    seen.add(id(node))
    if len(seen) > MAX_NODES:
        raise YamlError(f"more than {MAX_NODES} values: too large for a case", node.start_mark.line + 1)
    if depth > MAX_DEPTH:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
    out.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key_text(key_node)
            line = key_node.start_mark.line + 1
            if key == "<<":
                raise YamlError("merge keys (<<) are not allowed in a case file", line)
            if key in first:
                raise YamlError(f"the key '{key}' appears twice (lines {first[key]} and {line})", line)
            first[key] = line
            out.lines[(*path, key)] = line
            _walk(value_node, (*path, key), out, seen, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), out, seen, depth + 1)


def load_with_lines(text: str) -> tuple[Any, LineMap]:
    """The data in `text` and where each value was written; raises YamlError with a line."""
    last_line = text.rstrip("\n").count("\n") + 1

    def at(mark: yaml.Mark | None) -> int | None:  # an error at the end of the text: its last line
        return min(mark.line + 1, last_line) if mark is not None else None

    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" ({exc.context})" if exc.context else ""
            if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
                where = f" ({exc.context} that starts on line {at(exc.context_mark)})"
            raise YamlError(f"not valid YAML: {exc.problem}{where}", at(mark)) from exc
        except yaml.YAMLError as exc:
            raise YamlError(f"not valid YAML: {exc}") from exc
        except RecursionError as exc:
            raise YamlError("not valid YAML: nested too deeply") from exc
        lines = LineMap()
        if node is None:
            return None, lines
        _walk(node, (), lines, set(), 0)
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise YamlError(f"not valid YAML: {exc.problem}", at(mark)) from exc
        except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. an impossible date 2026-02-30
            raise YamlError(f"a value cannot be read: {exc}") from exc
        return data, lines
    finally:
        loader.dispose()
