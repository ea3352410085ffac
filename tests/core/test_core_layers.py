"""The core's groups stand in layers: a module imports only from its own group or a lower layer, at
the top of the file or inside a function alike, and no modules import each other in a circle. So
`families/` never reaches up into `io/`, and a request can call the explorer's code but not the other
way round. Read from the source with `ast`, nothing imported."""

import ast
from pathlib import Path

import genstudio.core

CORE = Path(genstudio.core.__file__).parent

# Lowest first. Groups on one layer are independent of each other.
LAYERS = (
    {"errors"},                           # one-line errors
    {"cancel", "events", "latent"},       # the cancel token, plain events, latent arithmetic
    {"runtime"},                          # devices, memory budgets, resources, the user's folders
    {"families"},                         # the model interface, configs, capabilities, the families
    {"registry"},                         # the one place families are registered
    {"io"},                               # model cards, checkpoints, readers, exports
    {"data"},                             # data sets (their readers use io's file checks)
    {"metrics"},                          # diagnostics on data and samples
    {"explore", "training"},              # the explorer's state and computations; the training loop
    {"requests"},                         # model work as plain-data requests, run by the app's threads
)
LAYER_OF = {group: depth for depth, groups in enumerate(LAYERS) for group in groups}


def group_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[:2] != ["genstudio", "core"] or len(parts) < 3:
        return None
    return parts[2]


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every genstudio.core import in the file;
    `from package import submodule` counts as an import of the submodule."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name for name in submodules if name in MODULES] or [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(name, node.lineno, id(node) in top) for name in names if name.startswith("genstudio.core.")]
    return found


def modules():
    for path in sorted(CORE.rglob("*.py")):
        dotted = ".".join(path.relative_to(CORE.parents[1]).with_suffix("").parts)
        yield dotted.removesuffix(".__init__"), path


MODULES = dict(modules())


def test_every_group_has_a_layer():
    groups = {group_of(name) for name in MODULES} - {None}
    assert groups <= set(LAYER_OF), f"place these in LAYERS: {sorted(groups - set(LAYER_OF))}"


def test_no_import_runs_upward_or_sideways():
    wrong = []
    for name, path in MODULES.items():
        source = group_of(name)
        if source is None:
            continue
        for imported, line, _ in imports_of(path):
            target = group_of(imported)
            if target in (None, source):
                continue
            if LAYER_OF[target] >= LAYER_OF[source]:
                wrong.append(f"{path.relative_to(CORE)}:{line} ({source}) imports {imported} ({target})")
    assert not wrong, "\n".join(wrong)


def test_no_circle_of_module_level_imports():
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {imported for imported, _, top in imports_of(path) if top and imported in MODULES
                       and imported != name}
    state: dict[str, int] = {}           # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path + [node, nxt]
            if nxt not in state and (circle := visit(nxt, path + [node])):
                return circle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            circle = visit(start, [])
            assert circle is None, " -> ".join(circle)
