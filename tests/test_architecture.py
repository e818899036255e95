"""The shape of the code base: no import cycle anywhere (function-level imports included), the packages
import only what docs/design.md allows, studies/ keeps its stages in folders, and nothing in the
repository points outside it."""
import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("manifolds", "models", "theory", "studies")
# what each package may import of the others (docs/design.md, "Packages and what each may import")
ALLOWED = {"manifolds": set(), "models": set(), "theory": set(),
           "studies": {"manifolds", "models", "theory"}}


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


def imported(name: str, is_pkg: bool, node, mods) -> list[str]:
    """The project modules an import statement names (the longest known prefix of each name)."""
    def known(n):
        while n and n not in mods:
            n = n.rpartition(".")[0]
        return n

    if isinstance(node, ast.Import):
        return [m for m in (known(a.name) for a in node.names) if m]
    base = name if is_pkg else name.rpartition(".")[0]
    for _ in range(max(node.level - 1, 0)):
        base = base.rpartition(".")[0]
    full = (base + "." + (node.module or "")).strip(".") if node.level else (node.module or "")
    out = []
    for a in node.names:
        m = f"{full}.{a.name}" if f"{full}.{a.name}" in mods else known(full)
        if m:
            out.append(m)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    graph = {m: set() for m in mods}
    for m, (f, is_pkg) in mods.items():
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for t in imported(m, is_pkg, node, mods):
                    # a module importing its own ancestor package (the re-export idiom) is not an edge
                    if t != m and not (mods[t][1] and (m + ".").startswith(t + ".")):
                        graph[m].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere_in_the_project():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_it_may(package):
    bad = sorted((m, t) for m, ts in import_graph().items() if m.split(".")[0] == package
                 for t in ts if t.split(".")[0] != package and t.split(".")[0] not in ALLOWED[package])
    assert bad == []


def test_theory_never_imports_torch():
    for f in (ROOT / "theory").rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] == "torch" for n in names), f


def test_studies_keeps_at_most_eight_modules_at_its_top():
    top = [p.name for p in (ROOT / "studies").glob("*.py")]
    assert len(top) <= 8, top


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, timeout=30)
    except OSError:
        pytest.skip("git is not available")
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.stdout.splitlines()]


def test_no_tracked_file_points_outside_the_repository():
    needles = ("DESIGN" + ".md", "../" + "shared", "/wo" + "rk/")  # spelt apart so that this file passes
    offenders = []
    for path in tracked_files():
        if path.suffix in (".png", ".pdf", ".sqlite") or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        offenders += [f"{path.relative_to(ROOT)}: {n}" for n in needles if n in text]
    assert offenders == []


def test_the_design_document_exists_and_names_every_stage():
    text = (ROOT / "docs" / "design.md").read_text()
    for stage in ("sweep/", "trials/", "results/", "analysis/", "plots/", "report/", "catalog/", "cli/"):
        assert stage in text
