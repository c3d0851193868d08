"""The package's shape, read statically with ``ast`` (issue #25): no hand-kept lists.

* no import circle between modules of ``workshop_utils``, counting every import statement: top-level,
  function-level (lazy), relative, ``from . import x`` and ``import workshop_utils.x`` (a name read
  through ``importlib`` from a string, as ``_moved`` does for deprecated names, is not an import);
* no module over 600 lines and no function over 100 lines, except the declarative tables
  ``ARCHITECTURE.md`` names (its "Declarative tables" section is read here);
* no private name (``_x``) imported or read across a module border: a name another module
  needs is public (a private *module*, ``from . import _checks``, is fine);
* every module has its test file (``ARCHITECTURE.md`` states the rule; :func:`expected_test_file`
  is that rule);
* ``ARCHITECTURE.md`` says what is true: its module table names every module and no missing one,
  its import layers hold for the real import graph, and only the framework-class modules it names
  import a framework at top level.

Each checker takes a folder, so the last tests feed each one a small bad package (in
``tmp_path``) and assert that it catches it: none of these checks can pass by construction.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workshop_utils"
TESTS = ROOT / "tests"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100
FRAMEWORKS = ("torch", "keras", "tensorflow")


# --------------------------------------------------------------------------- reading the package
def modules(pkg: Path) -> dict[str, Path]:
    """Every module of the package under ``pkg``: dotted name -> file (a package is its ``__init__.py``)."""
    out = {}
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, mods: dict[str, Path]) -> bool:
    return mods[name].name == "__init__.py"


def _base(name: str, mods: dict[str, Path], level: int, module: str | None) -> str | None:
    """The dotted module a ``from`` import reads from (``level`` dots, then ``module``)."""
    if level == 0:
        return module
    here = name if _is_package(name, mods) else name.rpartition(".")[0]
    for _ in range(level - 1):
        here = here.rpartition(".")[0]
    return f"{here}.{module}" if module else here


def imports(name: str, mods: dict[str, Path]) -> list[tuple[str, str, int, bool]]:
    """Every import of module ``name`` that lands in the package: ``(target module, imported name or '',
    line, at top level)``. ``from a import b`` where ``a.b`` is a module targets ``a.b``."""
    root = name.split(".")[0]
    tree = ast.parse(mods[name].read_text(), filename=str(mods[name]))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == root:
                    target = alias.name
                    while target not in mods and "." in target:
                        target = target.rpartition(".")[0]
                    out.append((target, "", node.lineno, id(node) in top))
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, mods, node.level, node.module)
            if base is None or base.split(".")[0] != root:
                continue
            while base not in mods and "." in base:
                base = base.rpartition(".")[0]
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in mods:
                    out.append((sub, "", node.lineno, id(node) in top))
                else:
                    out.append((base, alias.name, node.lineno, id(node) in top))
    return out


def import_graph(pkg: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (every import; a module importing itself is left out)."""
    mods = modules(pkg)
    return {name: {t for t, _, _, _ in imports(name, mods) if t != name} for name in mods}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _cycle_path(graph: dict[str, set[str]], comp: list[str]) -> str:
    """One import path around a circle, for the failure message (``a -> b -> a``)."""
    members = set(comp)
    start = comp[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph[path[-1]] if w in members)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return " -> ".join(path + [start])
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            return " <-> ".join(comp)
        path.append(fresh[0])
        seen.add(fresh[0])


# --------------------------------------------------------------------------- sizes
def table_exceptions(text: str) -> set[str]:
    """The declarative tables ``ARCHITECTURE.md`` names: ```path.py``` or ```path.py::function``` items of
    its "Declarative tables" section (up to the next heading)."""
    m = re.search(r"^#+ Declarative tables.*?$(.*?)(?=^#)", text + "\n#", re.M | re.S)
    if not m:
        return set()
    return set(re.findall(r"`([\w/]+\.py(?:::[\w.]+)?)`", m.group(1)))


def oversized(pkg: Path, exceptions: set[str] = frozenset()) -> list[str]:
    """Modules over 600 lines and functions (methods, nested ones) over 100 lines, not excepted."""
    bad = []
    for name, path in modules(pkg).items():
        rel = path.relative_to(pkg.parent).as_posix()
        text = path.read_text()
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES and rel not in exceptions:
            bad.append(f"{rel}: {n} lines (> {MAX_MODULE_LINES})")
        tree = ast.parse(text)
        for owner, node in _functions(tree):
            length = node.end_lineno - node.lineno + 1
            qual = f"{rel}::{owner}{node.name}"
            if length > MAX_FUNCTION_LINES and qual not in exceptions:
                bad.append(f"{qual}: {length} lines (> {MAX_FUNCTION_LINES})")
    return bad


def _functions(tree: ast.AST, owner: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield owner, node
            yield from _functions(node, f"{owner}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{owner}{node.name}.")
        else:
            yield from _functions(node, owner)


# --------------------------------------------------------------------------- private names
def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_crossings(pkg: Path) -> list[str]:
    """``from .x import _name`` and ``x._name`` (``x`` a module of the package) across module borders."""
    mods = modules(pkg)
    bad = []
    for name, path in mods.items():
        rel = path.relative_to(pkg.parent).as_posix()
        bound: dict[str, str] = {}  # local name -> package module it is bound to
        for target, what, line, _ in imports(name, mods):
            if what and _private(what) and target != name:
                bad.append(f"{rel}:{line}: from {target} import {what}")
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _base(name, mods, node.level, node.module)
                for alias in node.names:
                    if base and f"{base}.{alias.name}" in mods:
                        bound[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in mods:
                        if alias.asname:
                            bound[alias.asname] = alias.name
                        else:
                            bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                target = _module_of(node.value, bound, mods)
                if target is not None and target != name and f"{target}.{node.attr}" not in mods:
                    bad.append(f"{rel}:{node.lineno}: {target}.{node.attr}")
    return sorted(set(bad))


def _module_of(node: ast.AST, bound: dict[str, str], mods: dict[str, Path]) -> str | None:
    """The package module an expression (``backend``, ``wu.nas.dense``) names, or None."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _module_of(node.value, bound, mods)
        if base is not None and f"{base}.{node.attr}" in mods:
            return f"{base}.{node.attr}"
    return None


# --------------------------------------------------------------------------- tests layout
def expected_test_file(module: str) -> str:
    """The test file of a module (the rule ``ARCHITECTURE.md`` states).

    ``pkg.m`` -> ``test_m.py``; a sub-package's ``pkg.sub.m`` -> ``test_sub_m.py``; a private
    module ``_m`` -> ``test_m.py``, except a framework-class module ``_torch_m`` / ``_keras_m``, which
    is tested with the public module it serves: ``test_m.py``; a sub-package itself (its
    ``__init__``) -> ``test_sub.py``.
    """
    parts = module.split(".")[1:]
    last = parts[-1].lstrip("_")
    last = re.sub(r"^(torch|keras)_", "", last)
    return "test_" + "_".join(parts[:-1] + [last]) + ".py"


def missing_tests(pkg: Path, tests: Path) -> list[str]:
    """Modules of the package (not the top ``__init__``) whose test file does not exist."""
    mods = modules(pkg)
    return sorted(f"{name}: {expected_test_file(name)}" for name in mods
                  if "." in name and not (tests / expected_test_file(name)).is_file())


# --------------------------------------------------------------------------- ARCHITECTURE.md
def _section(text: str, heading: str) -> str:
    m = re.search(rf"^#+ {re.escape(heading)}.*?$(.*?)(?=^#+ )", text + "\n# end", re.M | re.S)
    assert m, f"ARCHITECTURE.md has no section {heading!r}"
    return m.group(1)


def _short(name: str) -> str:
    """``workshop_utils.nas.dense`` -> ``nas/dense`` (the spelling ARCHITECTURE.md uses)."""
    return "/".join(name.split(".")[1:])


def table_mismatches(text: str, pkg: Path) -> list[str]:
    """The module table of "Which module owns which job": every module named, no missing one named.

    A top-level module is named in a row's first column; a sub-package has its own row
    (```nas/```) whose text names each of its modules (```dense```)."""
    mods = [m for m in modules(pkg) if "." in m]
    section = _section(text, "Which module owns which job")
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    first = {n for cell, _ in rows for n in re.findall(r"`([\w/]+)`", cell)}
    sub_rows = {cell.strip().strip("`").rstrip("/"): owns for cell, owns in rows if cell.strip().endswith("/`")}
    bad = []
    for name in mods:
        short = _short(name)
        if "/" in short and _is_package(".".join(name.split(".")[:-1]), modules(pkg)):
            sub, mod = short.split("/", 1)
            if sub not in sub_rows or f"`{mod}`" not in sub_rows[sub]:
                bad.append(f"{short}: not named in the `{sub}/` row")
        elif short.rstrip("/") not in {f.rstrip("/") for f in first}:
            bad.append(f"{short}: no row names it")
    known = {_short(m) for m in mods}
    bad += [f"`{n}`: named in the table but there is no such module" for n in sorted(first)
            if n.rstrip("/") not in known]
    return bad


def layers(text: str) -> list[list[str]]:
    """The import layers of "Imports go one way": one numbered line per layer, its modules in backticks."""
    section = _section(text, "Imports go one way")
    out = [re.findall(r"`([\w/]+)`", line.split(":", 1)[0] if ":" in line else line)
           for line in section.splitlines() if re.match(r"\d+\. ", line)]
    assert out, "ARCHITECTURE.md: 'Imports go one way' lists no numbered layers"
    return out


def _layer_of(name: str, layer_index: dict[str, int]) -> int | None:
    short = _short(name)
    while short:
        for key in (short, short + "/"):
            if key in layer_index:
                return layer_index[key]
        short = short.rpartition("/")[0]
    return None


def layer_violations(text: str, pkg: Path) -> list[str]:
    """Imports that go up a layer, modules in no layer, layer names that are no module.

    Layer 1 imports nothing of the package; a module of layer k imports only modules of layers <= k
    (a sub-package's modules are in its layer); the package itself (its ``__init__``, which imports
    every module) counts as the last layer."""
    listed = layers(text)
    index = {n: i for i, names in enumerate(listed) for n in names}
    graph = import_graph(pkg)
    known = {_short(m) for m in graph}
    bad = [f"`{n}`: in a layer but there is no such module" for n in index if n.rstrip("/") not in known]
    for name, targets in sorted(graph.items()):
        if "." not in name:
            continue  # the package's __init__ imports everything: it is the top
        mine = _layer_of(name, index)
        if mine is None:
            bad.append(f"{_short(name)}: in no layer")
            continue
        for t in sorted(targets):
            theirs = len(listed) - 1 if "." not in t else _layer_of(t, index)
            shown = t if "." not in t else _short(t)
            if theirs is None:
                continue  # reported as "in no layer" on its own
            if mine == 0 and _short(t).split("/")[0] != _short(name).split("/")[0]:
                bad.append(f"{_short(name)} (layer 1) imports {shown}: layer 1 imports nothing of the package")
            elif theirs > mine:
                bad.append(f"{_short(name)} (layer {mine + 1}) imports {shown} (layer {theirs + 1})")
    return bad


def framework_importers(pkg: Path) -> set[str]:
    """Modules that import torch, keras or tensorflow at top level."""
    out = set()
    for name, path in modules(pkg).items():
        for node in ast.parse(path.read_text()).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(n.split(".")[0] in FRAMEWORKS for n in names):
                out.add(_short(name))
    return out


def framework_claim(text: str) -> set[str]:
    """The framework-class modules named by "No module imports a framework at top level except ...(...)"."""
    m = re.search(r"No module imports a framework at top level except[^(]*\(([^)]*)\)", text)
    assert m, "ARCHITECTURE.md no longer says which modules import a framework at top level"
    return set(re.findall(r"`([\w/]+)`", m.group(1)))


# --------------------------------------------------------------------------- the package
def test_no_import_circles():
    graph = import_graph(PACKAGE)
    found = circles(graph)
    assert not found, "import circles (every import counted, lazy ones too):\n" + "\n".join(
        _cycle_path(graph, c) for c in found)


def test_no_module_or_function_over_the_limits():
    bad = oversized(PACKAGE, table_exceptions(ARCHITECTURE.read_text()))
    assert not bad, ("over the limits (split it, or name a declarative table in ARCHITECTURE.md):\n"
                     + "\n".join(bad))


def test_no_private_name_crosses_a_module_border():
    bad = private_crossings(PACKAGE)
    assert not bad, "private names read from another module (make them public or move them):\n" + "\n".join(bad)


def test_every_module_has_its_test_file():
    bad = missing_tests(PACKAGE, TESTS)
    assert not bad, "modules without their test file (rule in ARCHITECTURE.md, section 6):\n" + "\n".join(bad)


def test_architecture_module_table_names_every_module():
    bad = table_mismatches(ARCHITECTURE.read_text(), PACKAGE)
    assert not bad, "ARCHITECTURE.md's module table is out of date:\n" + "\n".join(bad)


def test_architecture_import_layers_hold():
    bad = layer_violations(ARCHITECTURE.read_text(), PACKAGE)
    assert not bad, "ARCHITECTURE.md's 'Imports go one way' does not match the imports:\n" + "\n".join(bad)


def test_only_the_named_framework_class_modules_import_a_framework_at_top_level():
    assert framework_importers(PACKAGE) <= framework_claim(ARCHITECTURE.read_text())


def test_the_named_exceptions_exist():
    for item in table_exceptions(ARCHITECTURE.read_text()):
        path, _, func = item.partition("::")
        assert (ROOT / path).is_file(), item
        if func:
            names = {f"{o}{n.name}" for o, n in _functions(ast.parse((ROOT / path).read_text()))}
            assert func in names, item


# --------------------------------------------------------------------------- each checker can fail
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    return pkg


@pytest.mark.parametrize("files", [
    {"a.py": "from . import b\n", "b.py": "def f():\n    from .a import g\n"},  # lazy import closes it
    {"a.py": "from .b import x\n", "b.py": "from .c import y\n", "c.py": "import pkg.a\n"},  # three, absolute
    {"sub/__init__.py": "", "sub/a.py": "from .. import b\n", "b.py": "def f():\n    from .sub import a\n"},
    {"a.py": "from . import name_in_init\n", "__init__.py": "from . import a\nname_in_init = 1\n"},
])
def test_the_circle_check_catches_circles(tmp_path, files):
    pkg = _package(tmp_path, files)
    assert circles(import_graph(pkg))


def test_the_circle_check_passes_a_one_way_package(tmp_path):
    pkg = _package(tmp_path, {"a.py": "from . import b\nfrom .b import x\n", "b.py": "import numpy\nx = 1\n"})
    assert circles(import_graph(pkg)) == []


def test_the_size_check_catches_long_modules_and_functions(tmp_path):
    body = "\n".join(f"        x{i} = {i}" for i in range(101))
    pkg = _package(tmp_path, {"big.py": "x = 1\n" * 601, "f.py": f"class C:\n    def m(self):\n{body}\n"})
    bad = oversized(pkg)
    assert any(b.startswith("pkg/big.py: 601 lines") for b in bad)
    assert any(b.startswith("pkg/f.py::C.m: 102 lines") for b in bad)
    text = "## Declarative tables\n- `pkg/big.py`: a table\n- `pkg/f.py::C.m`: a table\n## Next\n"
    assert oversized(pkg, table_exceptions(text)) == []


def test_the_private_check_catches_private_names(tmp_path):
    pkg = _package(tmp_path, {
        "a.py": "def _helper():\n    pass\n_helper()\n",
        "b.py": "from .a import _helper\n",
        "c.py": "from . import a\na._helper()\n",
        "d.py": "def f():\n    import pkg.a as m\n    return m._helper\n",
        "ok.py": "from . import _priv\nfrom ._priv import public\n",
        "_priv.py": "public = 1\n"})
    bad = private_crossings(pkg)
    assert [b.split(":")[0] for b in bad] == ["pkg/b.py", "pkg/c.py", "pkg/d.py"], bad


def test_the_test_layout_check_catches_a_missing_test(tmp_path):
    pkg = _package(tmp_path, {"a.py": "", "_b.py": "", "_torch_c.py": "", "sub/__init__.py": "", "sub/d.py": ""})
    tests = tmp_path / "tests"
    tests.mkdir()
    assert missing_tests(pkg, tests) == ["pkg._b: test_b.py", "pkg._torch_c: test_c.py", "pkg.a: test_a.py",
                                         "pkg.sub.d: test_sub_d.py", "pkg.sub: test_sub.py"]
    for f in ("test_a.py", "test_b.py", "test_c.py", "test_sub.py", "test_sub_d.py"):
        (tests / f).write_text("")
    assert missing_tests(pkg, tests) == []


def test_the_architecture_checks_catch_false_claims(tmp_path):
    pkg = _package(tmp_path, {"low.py": "", "high.py": "from . import low\n", "sub/__init__.py": "",
                              "sub/x.py": "import torch\nfrom .. import high\n"})
    good = ("## Which module owns which job\n| module | owns |\n|---|---|\n| `low`, `high` | things |\n"
            "| `sub/` | `x` (the x) |\n## Imports go one way\n1. `low`: nothing\n2. `high`\n3. `sub/`\n## End\n"
            "No module imports a framework at top level except the framework-class modules (`sub/x`).\n")
    assert table_mismatches(good, pkg) == [] and layer_violations(good, pkg) == []
    assert framework_importers(pkg) <= framework_claim(good)
    assert table_mismatches(good.replace("`low`, ", ""), pkg) == ["low: no row names it"]
    assert table_mismatches(good.replace("`x` (the x)", "the x"), pkg) == ["sub/x: not named in the `sub/` row"]
    assert table_mismatches(good.replace("`high` |", "`high`, `gone` |"), pkg) == [
        "`gone`: named in the table but there is no such module"]
    swapped = good.replace("1. `low`: nothing\n2. `high`", "1. `high`: nothing\n2. `low`")
    assert layer_violations(swapped, pkg) == ["high (layer 1) imports low: layer 1 imports nothing of the package"]
    upward = good.replace("2. `high`\n3. `sub/`", "2. `high`, `sub/`").replace("1. `low`: nothing", "1. `low`")
    assert layer_violations(upward.replace("2. `high`, `sub/`", "2. `sub/`\n3. `high`"), pkg) == [
        "sub/x (layer 2) imports high (layer 3)"]
    assert layer_violations(good.replace("3. `sub/`", ""), pkg) == ["sub: in no layer", "sub/x: in no layer"]
    (pkg / "low2.py").write_text("from . import __version__\n")
    assert layer_violations(good.replace("`low`: nothing\n", "`low`: nothing\n2. `low2`\n").replace(
        "2. `high`\n3.", "3. `high`\n4."), pkg) == ["low2 (layer 2) imports pkg (layer 4)"]
    assert not framework_importers(pkg) <= framework_claim(good.replace("(`sub/x`)", "(`low`)"))
