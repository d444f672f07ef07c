"""The app stack, kept by a scan of every module's imports (docs/architecture.md).

Bottom to top: simulator (stands alone) | portal -> appliances -> certificates -> failover -> rma -> demo. An app
imports only from apps below it; the simulator imports nothing of the project (nor Django); only demo (and the
tests) import the simulator; no import cycle spans two apps; an import inside a function says why in a comment.
Imports are read with ``ast``, at module level and inside functions, so a lazy import cannot hide an upward one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ("portal", "appliances", "certificates", "failover", "rma", "demo")
SIMULATOR = "simulator"
#: Third-party packages the simulator must not use: it runs where the portal does not (a lab, a laptop).
SIMULATOR_FORBIDDEN = ("django", "rest_framework", "celery")
#: The one allowed upward reference: the project's URLconf includes every app's URLconf (by dotted string, so it
#: is no import anyway). Listed so that turning it into an import stays allowed and nothing else does.
ALLOWED_UPWARD = {"portal.urls", "portal.celery"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted and absolute
    line: int
    in_function: bool
    explained: bool  # a comment on the line or right above it says why (for imports inside functions)


def app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in STACK or top == SIMULATOR else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in (*STACK, SIMULATOR):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


def _explained(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's line, or above it (one comment may explain a block of imports)."""
    if "#" in lines[node.lineno - 1]:
        return True
    number = node.lineno - 2
    while number >= 0 and (not lines[number].strip() or lines[number].strip().startswith(("from ", "import "))):
        number -= 1
    return number >= 0 and lines[number].strip().startswith("#")


def _function_import_nodes(tree: ast.AST) -> set[int]:
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(child) for child in ast.walk(node) if isinstance(child, (ast.Import, ast.ImportFrom))}
    return inside


def imports_of(module: str, source: str, *, is_package: bool = False) -> list[Import]:
    tree = ast.parse(source)
    lines = source.splitlines()
    in_function = _function_import_nodes(tree)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from pkg import name" may import the submodule pkg.name: both are recorded.
            targets = [prefix, *(f"{prefix}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            found.append(Import(module, target, node.lineno, id(node) in in_function, _explained(lines, node)))
    return found


def all_imports() -> list[Import]:
    return [
        imp
        for name, path in project_modules().items()
        for imp in imports_of(name, path.read_text(), is_package=path.name == "__init__.py")
    ]


def upward_imports(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        source, target = app_of(imp.module), app_of(imp.target)
        if source is None or target is None or source == target:
            continue
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        if source == SIMULATOR:
            problems.append(f"{where}: the simulator imports nothing of the project")
        elif target == SIMULATOR:
            if source != "demo":
                problems.append(f"{where}: only demo imports the simulator")
        elif STACK.index(target) > STACK.index(source) and imp.module not in ALLOWED_UPWARD:
            problems.append(f"{where}: {source} is below {target}")
    return problems


def simulator_framework_imports(imports: list[Import]) -> list[str]:
    return [f"{imp.module}:{imp.line} imports {imp.target}" for imp in imports
            if app_of(imp.module) == SIMULATOR and imp.target.split(".")[0] in SIMULATOR_FORBIDDEN]


def cross_app_cycles(imports: list[Import], modules: set[str]) -> list[list[str]]:
    """Strongly connected components of the module graph that contain modules of more than one app."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for imp in imports:
        target = imp.target
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != imp.module:
            graph[imp.module].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative Tarjan: the module graph is deep enough to matter
        nonlocal counter
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return [c for c in components if len({app_of(m) for m in c}) > 1]


def unexplained_function_imports(imports: list[Import]) -> list[str]:
    """AppConfig.ready() is exempt: it is Django's place for imports that need the app registry."""
    seen, problems = set(), []
    for imp in imports:
        if not imp.in_function or imp.explained or app_of(imp.module) == SIMULATOR:
            continue
        if imp.module.endswith(".apps"):
            continue
        if (imp.module, imp.line) not in seen:
            seen.add((imp.module, imp.line))
            problems.append(f"{imp.module}:{imp.line} imports {imp.target} inside a function without saying why")
    return problems


# -- the project ------------------------------------------------------------------------------------------


def test_every_app_imports_only_from_apps_below_it():
    assert upward_imports(all_imports()) == []


def test_the_simulator_stands_alone():
    imports = all_imports()
    assert [p for p in upward_imports(imports) if "simulator" in p.split(" imports ")[0]] == []
    assert simulator_framework_imports(imports) == []


def test_no_import_cycle_spans_two_apps():
    assert cross_app_cycles(all_imports(), set(project_modules())) == []


def test_imports_inside_functions_say_why():
    assert unexplained_function_imports(all_imports()) == []


# -- the scanner itself (each rule catches what it is for) -------------------------------------------------


def test_the_scanner_sees_upward_and_lazy_imports():
    source = "from failover.models import Pair\n\ndef f():\n    from rma import services\n"
    imports = imports_of("certificates.selectors", source)
    problems = upward_imports(imports)
    assert any("certificates.selectors:1 imports failover.models" in p for p in problems)
    assert any("certificates.selectors:4 imports rma" in p for p in problems)
    assert unexplained_function_imports(imports) == ["certificates.selectors:4 imports rma inside a function "
                                                     "without saying why"]
    explained = imports_of("rma.views", "def f():\n    # Imported here: a heavy module, only for this page.\n"
                                        "    from appliances import models\n")
    assert unexplained_function_imports(explained) == []


def test_the_scanner_sees_relative_imports_and_the_simulator_rules():
    assert imports_of("failover.services.pairs", "from ..models import Pair\n")[0].target == "failover.models"
    assert imports_of("failover.operations", "from .engine import run\n", is_package=True)[0].target == \
        "failover.operations.engine"
    assert upward_imports(imports_of("simulator.fleet", "import portal.models\n"))
    assert simulator_framework_imports(imports_of("simulator.server", "from django.conf import settings\n"))
    assert upward_imports(imports_of("appliances.loader", "from simulator.fleet import load_fleet\n"))
    assert upward_imports(imports_of("demo.seed", "from simulator.fleet import load_fleet\n")) == []


def test_the_scanner_finds_a_cycle_between_two_apps():
    imports = [*imports_of("appliances.a", "import certificates.b\n"), *imports_of("certificates.b", "import appliances.a\n")]
    assert cross_app_cycles(imports, {"appliances.a", "certificates.b"}) == [["appliances.a", "certificates.b"]]
    same_app = [*imports_of("failover.a", "import failover.b\n"), *imports_of("failover.b", "import failover.a\n")]
    assert cross_app_cycles(same_app, {"failover.a", "failover.b"}) == []
