"""The shape of mas_screen (docs: design.md "Layout"): small modules, no import cycles, layers that only
look down. Built from the source with ast (module-level and function-level imports alike), so a lazy
import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mas_screen"
MAX_LINES = 600

# A module in layer L never imports a module in any layer listed for L (prefixes of dotted names).
FORBIDDEN = {
    "mas_screen.kernel": ("mas_screen.explain", "mas_screen.faces", "mas_screen.render", "mas_screen.ui"),
    "mas_screen.criteria": ("mas_screen.explain", "mas_screen.faces", "mas_screen.render", "mas_screen.ui"),
    "mas_screen.domain": ("mas_screen.explain", "mas_screen.faces", "mas_screen.render", "mas_screen.ui"),
    "mas_screen.explain": ("mas_screen.faces", "mas_screen.render", "mas_screen.ui"),
    "mas_screen.render": ("mas_screen.faces", "mas_screen.ui"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """Every module `name` imports (mas_screen or not) with the line, resolved to a module where one exists:
    `from a.b import c` is a.b.c when that is a module, else a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.append((child if child in MODULES else base, node.lineno))
    return found


GRAPH = {
    name: sorted({target for target, _ in imports(name, path) if target in MODULES and target != name})
    for name, path in MODULES.items()
}


def test_the_graph_sees_the_package():
    assert len(MODULES) > 100
    assert "mas_screen.domain.models" in GRAPH["mas_screen"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_600_lines(name):
    path = MODULES[name]
    rel = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{rel} has {lines} lines (at most {MAX_LINES}): split it by idea"


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle as a path a -> b -> ... -> a, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(graph[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(graph[child])))
                path.append(child)
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def test_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_only_ui_imports_streamlit():
    offenders = [
        f"{MODULES[name].relative_to(ROOT)}:{line}"
        for name, path in MODULES.items()
        if not (name == "mas_screen.ui" or name.startswith("mas_screen.ui."))
        for target, line in imports(name, path)
        if target == "streamlit" or target.startswith("streamlit.")
    ]
    assert not offenders, f"streamlit imported outside mas_screen/ui: {offenders}"


def test_lower_layers_never_import_higher_ones():
    offenders = []
    for name, path in MODULES.items():
        for layer, above in FORBIDDEN.items():
            if name == layer or name.startswith(layer + "."):
                offenders += [
                    f"{path.relative_to(ROOT)}:{line} imports {target}"
                    for target, line in imports(name, path)
                    if any(target == up or target.startswith(up + ".") for up in above)
                ]
    assert not offenders, "layer violations:\n" + "\n".join(sorted(set(offenders)))
