"""One name per component id: the ``components/ids`` modules, the callbacks and the JS agree.

- every id the JS reads (``getElementById``, ``set_props``, ``#id`` in a selector, the ``IDS``
  table at the top of an asset file, the tour's targets) is a value of an ids module;
- every ``ClientsideFunction`` is in the one namespace ``rnnx`` and names a function that an
  asset file adds to ``window.dash_clientside.rnnx``; no callback passes inline JS;
- no card or page passes a literal id to ``Input``, ``Output``, ``State``, ``id=`` or
  ``set_props`` (they name ``ids.X``);
- every id the pages draw and every id a callback names is a value of an ids module.

Read from the source (no browser); the helpers are checked on planted mistakes too.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from components.ids import analytics, common, home, trainer

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
MODULES = (analytics, common, home, trainer)
NAMESPACE = "rnnx"
# Modules whose callbacks and layout must name their ids (``ids.X``), never spell them.
NAMED = sorted(
    [
        *(ROOT / "components" / "cards").glob("*.py"),
        *(ROOT / "pages").glob("*.py"),
        ROOT / "app.py",
        ROOT / "components" / "cell_view.py",
        ROOT / "components" / "analytics_byo.py",
    ]
)
# (file, line text) of a literal id allowed in NAMED, each with its reason. None today.
LITERAL_EXCEPTIONS: dict[tuple[str, str], str] = {}
# Everything the app's Python may hold a ClientsideFunction in.
PYTHON = sorted([*(ROOT / "components").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"])


def constants(module) -> dict[str, object]:
    return {name: value for name, value in vars(module).items() if name.isupper()}


def id_values() -> set[str]:
    """Every id of the ids modules (also those grouped in their dicts and tuples)."""
    found: set[str] = set()
    for module in MODULES:
        for value in constants(module).values():
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, dict):
                found.update(v for v in value.values() if isinstance(v, str))
            elif isinstance(value, tuple):
                found.update(v for v in value if isinstance(v, str))
    return found


# ---------------------------------------------------------------- reading the JS


def strip_comments(js: str) -> str:
    """The source without ``//`` and ``/* */`` comments (strings and their contents kept)."""
    out, i, quote = [], 0, None
    while i < len(js):
        c = js[i]
        if quote:
            out.append(c)
            if c == "\\":
                out.append(js[i + 1 : i + 2])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
            out.append(c)
        elif js.startswith("//", i):
            i = js.find("\n", i)
            i = len(js) if i < 0 else i
            continue
        elif js.startswith("/*", i):
            end = js.find("*/", i + 2)
            i = len(js) if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def outside_strings(text: str, start: int = 0):
    """(index, character) of ``text`` from ``start``, skipping what is inside quotes."""
    quote, i = None, start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        else:
            yield i, c
        i += 1


def block(js: str, start: int) -> str:
    """The text between the ``{`` at ``start`` and its matching ``}`` (comments already stripped)."""
    depth = 0
    for i, c in outside_strings(js, start):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return js[start + 1 : i]
    raise ValueError("unbalanced braces")


STRING = r"""(?:"([^"\\]*)"|'([^'\\]*)')"""
CALLS = re.compile(r"\b(?:getElementById|set_props)\(\s*" + STRING)
SELECTOR_CALLS = re.compile(r"\b(?:querySelector|querySelectorAll|closest)\(\s*" + STRING)
IDS_TABLE = re.compile(r"\b(?:var|const|let)\s+IDS\s*=\s*\{")
RNNX_MERGE = re.compile(
    r"window\.dash_clientside\.rnnx\s*=\s*Object\.assign\(\s*window\.dash_clientside\.rnnx\s*\|\|\s*\{\}\s*,\s*\{"
)


def selector_ids(selector: str) -> set[str]:
    """Ids a CSS selector names: ``#id`` and ``[id=…]``, ``[id*=…]`` (a pattern id's type)."""
    found = set(re.findall(r"#([A-Za-z][\w-]*)", selector))
    found.update(m[1] for m in re.findall(r"""\[id[*^$~|]?=(["'])([^"']+)\1\]""", selector))
    return found


def js_ids(js: str) -> set[str]:
    """Every element id a script reads: by a DOM or set_props call, in a selector, in its IDS table."""
    js = strip_comments(js)
    found = {a or b for a, b in CALLS.findall(js)}
    for a, b in SELECTOR_CALLS.findall(js):
        found |= selector_ids(a or b)
    for table in IDS_TABLE.finditer(js):
        found |= {a or b for a, b in re.findall(STRING, block(js, table.end() - 1))}
    return found


def tour_ids(script: str) -> set[str]:
    """Every id the tours' steps point at, click or set (``assets/tour_steps.js``)."""
    body = script[script.index("=") + 1 :].strip().rstrip(";")
    found = set()
    for tour in json.loads(body)["tours"].values():
        for step in tour["steps"]:
            target = step.get("target")
            if target:
                found |= selector_ids(target) if target[0] in "#.[" else {target}
            if step.get("click"):
                found |= selector_ids(step["click"])
            prepare = step.get("prepare") or {}  # what makes the step's subject visible
            found |= set((prepare.get("ids") or {}).values())
            found |= set().union(*(selector_ids(prepare[k]) for k in ("selector", "click") if prepare.get(k)))
            for changes in [step.get("set") or {}, *[a.get("set") or {} for a in step.get("actions", [])]]:
                found |= set(changes)
    return found


def top_level(text: str) -> str:
    """``text`` without what is nested in its braces, brackets or parentheses (and without strings)."""
    out, depth = [], 0
    for _i, c in outside_strings(text):
        if c in "{[(":
            depth += 1
        elif c in "}])":
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def rnnx_functions(js: str) -> set[str]:
    """The names a script adds to ``window.dash_clientside.rnnx`` that it defines as functions."""
    js = strip_comments(js)
    names = set()
    for merge in RNNX_MERGE.finditer(js):
        body = top_level(block(js, merge.end() - 1))
        for key, value in re.findall(
            r"(?:^|,)\s*([A-Za-z_$][\w$]*)\s*:\s*([A-Za-z_$][\w$]*|function\b)", body
        ):
            if value == "function" or re.search(r"\bfunction\s+" + re.escape(value) + r"\s*\(", js):
                names.add(key)
    return names


def asset_scripts() -> dict[str, str]:
    """The app's own scripts (not the vendored Plotly)."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(ASSETS.glob("*.js"))}


# ---------------------------------------------------------------- reading the Python


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def clientside_functions(paths: list[Path]) -> list[tuple[str, int, str | None, str | None]]:
    """(file, line, namespace, function name) of every ``ClientsideFunction(...)`` (None: not a literal)."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) == "ClientsideFunction":
                args = [*node.args, *(k.value for k in node.keywords)]
                values = [a.value if isinstance(a, ast.Constant) else None for a in args[:2]]
                found.append((path.name, node.lineno, *values))
    return found


def inline_clientside(paths: list[Path]) -> list[tuple[str, int]]:
    """(file, line) of every ``clientside_callback`` given JS source rather than a ClientsideFunction."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) == "clientside_callback":
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Call) and _name(first.func) == "ClientsideFunction"):
                    found.append((path.name, node.lineno))
    return found


def _literal(node: ast.expr | None) -> bool:
    """A spelled-out id: a string, an f-string, or a pattern id whose ``type`` is one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) or isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Dict):
        return any(
            isinstance(k, ast.Constant) and k.value == "type" and _literal(v)
            for k, v in zip(node.keys, node.values, strict=True)
        )
    return False


def literal_ids(path: Path) -> list[tuple[int, str]]:
    """(line, source) of every literal id passed to Input/Output/State, ``id=`` or ``set_props``."""
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        spelled = []
        if name in ("Input", "Output", "State", "set_props"):
            spelled += node.args[:1] + [k.value for k in node.keywords if k.arg == "component_id"]
        spelled += [k.value for k in node.keywords if k.arg == "id"]
        for arg in spelled:
            if _literal(arg):
                found.append((arg.lineno, ast.get_source_segment(source, arg) or ""))
    return found


# ---------------------------------------------------------------- the ids modules


def test_each_module_holds_named_unique_ids():
    seen: dict[str, str] = {}
    for module in MODULES:
        for name, value in constants(module).items():
            if isinstance(value, str):
                assert name == value.upper().replace("-", "_"), f"{module.__name__}.{name} = {value!r}"
                assert value not in seen, f"{value!r} is in {seen.get(value)} and {module.__name__}"
                seen[value] = module.__name__
            else:  # a group of ids of the module: each one is also a constant of its own
                members = value.values() if isinstance(value, dict) else value
                singles = {v for v in constants(module).values() if isinstance(v, str)}
                assert set(members) <= singles, f"{module.__name__}.{name}"
    assert len(seen) > 200


def test_the_app_alert_id_is_the_one_serving_opens():
    from serving import health

    assert common.APP_ERROR == health.ALERT_ID


# ---------------------------------------------------------------- (a) the JS reads the same names


def test_every_id_the_js_reads_is_in_an_ids_module():
    known = id_values()
    unknown = {}
    scripts = asset_scripts()
    read = {name: js_ids(js) for name, js in scripts.items() if name != "tour_steps.js"}
    read["tour_steps.js"] = tour_ids(scripts["tour_steps.js"])
    for name, found in read.items():
        if found - known:
            unknown[name] = sorted(found - known)
    assert not unknown, f"ids the JS reads that no ids module holds: {unknown}"
    # the scan sees what it should (it cannot pass by reading nothing)
    assert {"sequence-text", "projection-graph", "analytics-selection", "analytics-export-png"} <= read[
        "analytics.js"
    ]
    assert {"play-button", "network-diagram", "trainer-remove-layer"} <= read["trainer.js"]
    assert {"cell-payload", "cell-phase-label-predict"} <= read["cellview.js"]
    assert {"tour-popover", "epoch-counter", "tour-start", "nav-trainer"} <= read["tour.js"]
    tour = {"trainer-layer", "cell-back", "learning-rate", "trainer-example", "ep-heatmap", "cell-position"}
    assert tour | {"cell-payload", "analytics-selection", "prediction-graph"} <= read["tour_steps.js"]


def test_every_clientside_function_is_in_the_rnnx_namespace_of_the_assets():
    defined: dict[str, set[str]] = {name: rnnx_functions(js) for name, js in asset_scripts().items()}
    everywhere = set().union(*defined.values())
    used = clientside_functions(PYTHON)
    assert len(used) >= 14
    missing = [(f, line, fn) for f, line, ns, fn in used if fn not in everywhere]
    assert not missing, f"ClientsideFunction names no function of window.dash_clientside.rnnx: {missing}"
    # each name is defined once, and nothing is defined that no callback uses
    names = [n for found in defined.values() for n in found]
    assert len(names) == len(set(names)), f"defined twice: {sorted(n for n in names if names.count(n) > 1)}"
    assert everywhere == {fn for *_rest, fn in used}, f"unused: {sorted(everywhere - {u[3] for u in used})}"


# ---------------------------------------------------------------- (b) one namespace


def test_no_other_clientside_namespace():
    others = [(f, line, ns) for f, line, ns, _fn in clientside_functions(PYTHON) if ns != NAMESPACE]
    assert not others, f"ClientsideFunction outside {NAMESPACE!r}: {others}"
    assert not inline_clientside(PYTHON), "inline JS in clientside_callback: move it to assets/*.js"
    for name, js in asset_scripts().items():
        code = strip_comments(js)
        assigned = set(re.findall(r"dash_clientside\.(\w+)\s*=(?!=)", code))
        assert assigned <= {NAMESPACE}, f"{name} sets window.dash_clientside.{assigned - {NAMESPACE}}"
        assert not re.search(r"window\.dash_clientside\s*=\s*Object\.assign\(\s*\{\}", code), name
        merges = len(RNNX_MERGE.findall(code))
        assert merges == len(re.findall(r"dash_clientside\.rnnx\s*=", code)), (
            f"{name}: add to the namespace with Object.assign(window.dash_clientside.rnnx || {{}}, {{…}})"
        )


# ---------------------------------------------------------------- (c) callbacks name their ids


def test_cards_and_pages_name_their_ids():
    spelled = {}
    for path in NAMED:
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        bad = [(n, s) for n, s in literal_ids(path) if (rel, lines[n - 1].strip()) not in LITERAL_EXCEPTIONS]
        if bad:
            spelled[rel] = bad
    assert not spelled, f"literal ids (use components.ids): {spelled}"
    assert len(NAMED) > 20


# ---------------------------------------------------------------- every id of the pages and callbacks


def _ids_in(node, found: set[str]) -> None:
    from dash.development.base_component import Component

    if isinstance(node, Component):
        value = getattr(node, "id", None)
        if isinstance(value, dict):
            found.add(value.get("type"))
        elif value is not None:
            found.add(value)
        for prop, child in node.to_plotly_json()["props"].items():
            if prop != "id" and isinstance(child, Component | list | tuple):
                _ids_in(child, found)
    elif isinstance(node, list | tuple):
        for child in node:
            _ids_in(child, found)


def test_every_id_of_the_pages_and_callbacks_is_in_an_ids_module(page):
    import app
    from components import cell_view
    from pages import home as home_page
    from pages import trainer as trainer_page

    drawn: set[str] = set()
    for layout in (page.layout(), trainer_page.layout(), home_page.layout(), cell_view.cell_view_layout()):
        _ids_in(layout, drawn)
    shell: set[str] = set()
    _ids_in(app.app.layout, shell)
    drawn |= {i for i in shell if not i.startswith("_pages")}  # Dash's own page container

    def type_of(key: str | dict) -> str:  # a pattern-matching id stands for its type
        key = json.loads(key) if isinstance(key, str) and key.startswith("{") else key
        return key["type"] if isinstance(key, dict) else key

    named = set()
    for spec in app.app.callback_map.values():
        named.update(type_of(dep["id"]) for dep in [*spec["inputs"], *spec["state"]])
    for callback in app.app._callback_list:
        for part in callback["output"].strip(".").split("..."):
            named.add(type_of(part.split("@")[0].rsplit(".", 1)[0]))
    named -= {i for i in named if i.startswith("_pages")}
    known = id_values()
    assert len(drawn) > 150 and len(named) > 120
    assert drawn - known == set(), f"drawn ids no ids module holds: {sorted(drawn - known)}"
    assert named - known == set(), f"callback ids no ids module holds: {sorted(named - known)}"


# ---------------------------------------------------------------- the checks catch planted mistakes


def test_the_checks_catch_planted_mistakes(tmp_path):
    js = """
    // getElementById("in-a-comment") is not read
    var IDS = {a: "listed-id", b: 'other-id'}; // it's a comment with a quote
    document.getElementById("plain-id");
    window.dash_clientside.set_props('props-id', {});
    document.querySelector("#sel-id .child button[id*='pattern-type']");
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        defined: defined, // a comment
        notAFunction: someValue,
        inline: function () { return {nested: 1}; }
    });
    function defined() {}
    """
    assert js_ids(js) == {"listed-id", "other-id", "plain-id", "props-id", "sel-id", "pattern-type"}
    assert not js_ids(js) <= id_values()
    assert rnnx_functions(js) == {"defined", "inline"}
    steps = 'window.rnnxTourSteps = {"tours": {"t": {"steps": [{"target": "#x-id", "set": {"y-id": {}}}]}}};'
    assert tour_ids(steps) == {"x-id", "y-id"}

    module = tmp_path / "card.py"
    module.write_text(
        "from dash import ClientsideFunction, Input, Output, State, clientside_callback, html, set_props\n"
        "from components.ids import analytics as ids\n"
        "clientside_callback('function () {}', Output(ids.ANALYTICS_HOVER, 'data'), Input('spelled', 'value'))\n"
        "clientside_callback(ClientsideFunction('analytics', 'f'), Output({'type': 'kind', 'i': 1}, 'x'))\n"
        "clientside_callback(ClientsideFunction('rnnx', 'g'), Output(ids.ANALYTICS_HOVER, 'data'))\n"
        "html.Div(id=f'made-{1}'), State(component_id='by-keyword', component_property='v')\n"
        "set_props('set-here', {}); html.Div(id=ids.ANALYTICS_ALERT)\n"
    )
    assert sorted(line for line, _ in literal_ids(module)) == [3, 4, 6, 6, 7]
    assert [(ns, fn) for _f, _l, ns, fn in clientside_functions([module])] == [
        ("analytics", "f"),
        ("rnnx", "g"),
    ]
    assert [line for _f, line in inline_clientside([module])] == [3]


@pytest.mark.parametrize("name", ["analytics.js", "cellview.js", "neighbors.js", "trainer.js", "uploads.js"])
def test_each_script_with_clientside_functions_merges_into_the_namespace(name):
    js = strip_comments(asset_scripts()[name])
    assert RNNX_MERGE.search(js), f"{name} does not add its functions to window.dash_clientside.rnnx"
    assert "window.dash_clientside = window.dash_clientside || {}" in js
