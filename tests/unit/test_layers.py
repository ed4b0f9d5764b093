"""The layers import only downwards: pages -> components/services -> model (read from the source, no imports run).

- a module of ``pages/`` imports neither another ``pages`` module nor ``model`` (it goes through ``services``);
- ``model/`` imports none of ``serving``, ``services``, ``components``, ``pages`` or ``dash``;
- ``services/`` imports none of ``components``, ``pages`` or ``dash``;
- ``components/`` (cards included) reach the numeric core through ``services``: from ``model`` they
  import only the types and pure figure helpers of ``COMPONENT_MODEL_ALLOWED``.

Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "pages": {"pages", "model"},
    "model": {"serving", "services", "components", "pages", "dash"},
    "services": {"components", "pages", "dash"},
}

# (file, imported top-level package) pairs that break the rule today, each with its reason.
# Remove an entry once its module is fixed.
KNOWN_EXCEPTIONS = {
    # The session id of a background job is read from Dash's callback context (a lazy import).
    ("services/identity.py", "dash"),
}


# What ``components/`` may import from ``model`` (everything else goes through ``services``).
# An entry is a module (``"signals"``: the module and any name in it) or one name of a module
# (``"units.Matches"``: ``from model.units import Matches`` only, not ``from model import units``).
COMPONENT_MODEL_ALLOWED = {
    "artifacts.Analysis",  # the prepared-analysis dataclass that services hand to figures (a type)
    "units.Matches",  # the unit search's result type, drawn by components/analytics_units.py (a type)
    "textmodels.TOKEN",  # the token pattern analytics_view.py splits typed text with (a constant)
    "signals",  # the trainer's pure signal generators, drawn by the trainer figures and cell view
    "celltrace",  # the cell view's pure per-gate trace of one step (numpy, no I/O)
}


def model_imports(path: Path) -> set[str]:
    """What a module imports from ``model`` anywhere in it: ``"x"`` for a module, ``"x.Name"`` for a name.

    ``from model import x`` and ``import model.x`` give ``"x"``; ``from model.x import Name`` gives
    ``"x.Name"``; ``import model`` gives ``""`` (the package itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = alias.name.partition(".")
                if top == "model":
                    found.add(rest)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top, _, rest = node.module.partition(".")
            if top != "model":
                continue
            found.update(f"{rest}.{alias.name}" if rest else alias.name for alias in node.names)
    return found


def allowed_in_components(name: str) -> bool:
    """Whether ``name`` (as :func:`model_imports` writes it) is on the components' allow-list."""
    module = name.partition(".")[0]
    return name in COMPONENT_MODEL_ALLOWED or (bool(module) and module in COMPONENT_MODEL_ALLOWED)


def component_model_violations(root: Path = ROOT) -> set[tuple[str, str]]:
    """Every (file, ``model`` import) of ``components/`` that is not on the allow-list."""
    found = set()
    for path in sorted((root / "components").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        found.update(
            (name, imported) for imported in model_imports(path) if not allowed_in_components(imported)
        )
    return found


def imported_packages(path: Path, layer: str) -> set[str]:
    """Top-level packages a module imports anywhere in it (a relative import stays in ``layer``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module.split(".")[0] if node.level == 0 and node.module else layer)
    return found


def violations() -> set[tuple[str, str]]:
    """Every (file, forbidden package) import in the layered folders."""
    found = set()
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            found.update((name, package) for package in imported_packages(path, layer) & forbidden)
    return found


def test_no_layer_imports_upwards_or_sideways():
    offenders = sorted(violations() - KNOWN_EXCEPTIONS)
    assert not offenders, "forbidden imports:\n" + "\n".join(f"  {f} imports {p}" for f, p in offenders)


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from model import prepare\n    import dash.dcc\n    from . import x\n")
    assert imported_packages(module, "pages") == {"model", "dash", "pages"}


def test_components_reach_the_core_only_through_services():
    offenders = sorted(component_model_violations())
    assert not offenders, "components importing the numeric core (use a service):\n" + "\n".join(
        f"  {f} imports model.{m}" for f, m in offenders
    )


def test_the_allow_list_check_catches_a_planted_core_import(tmp_path):
    cards = tmp_path / "components" / "cards"
    cards.mkdir(parents=True)
    (cards / "fine.py").write_text(
        "from model.artifacts import Analysis\nfrom model import signals\nfrom model.units import Matches\n"
    )
    (cards / "planted.py").write_text(
        "def f():\n    from model import prepare\n    from model import units as core\n"
        "    import model.export\n    from model.units import on_units\n"
    )
    assert component_model_violations(tmp_path) == {
        ("components/cards/planted.py", "prepare"),
        ("components/cards/planted.py", "units"),
        ("components/cards/planted.py", "export"),
        ("components/cards/planted.py", "units.on_units"),
    }


def test_every_allow_list_entry_is_still_used():
    used = set().union(*(model_imports(p) for p in (ROOT / "components").rglob("*.py")))
    stale = {
        entry
        for entry in COMPONENT_MODEL_ALLOWED
        if not any(u == entry or u.startswith(entry + ".") for u in used)
    }
    assert not stale, f"remove these from COMPONENT_MODEL_ALLOWED, nothing imports them: {sorted(stale)}"
