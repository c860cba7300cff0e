"""``workbench verify APP``: build the app, probe every route, compare with the map.

The app is built and probed in a subprocess (``python -m audit.probe``): importing
an app runs its code, which the workbench process never does. The subprocess gets a
throwaway SQLite ``DATABASE_URL``, an ``UPLOAD_DIR`` and a ``JWT_SECRET``, has
outbound network connections disabled, and calls every route through the
framework's test client three times: without credentials, with a valid bearer token
(HS256, ``JWT_SECRET``, ``sub`` "1") and with a forged one (right claims, wrong key).

The answers are then held against what the static map says about each route
(CONTRACT.md section 3 route flags and section 4 behaviour):

* every mapped route is served and every served route is mapped;
* a route the map says needs auth, and any route that is not public, answers 401
  (or 403) without credentials and with a forged token;
* no answer is a 500 (an unhandled error: the probes send what a careless client
  sends, an empty JSON body, which deserves a 4xx), nor a 5xx that shows exception text;
* some route that needs auth accepts the valid token (otherwise the app does not use
  the contract's token scheme, and the 401s prove nothing);
* with ``checks`` including ``"hardening"`` (the default), every answer carries the
  security headers and the response-time header, and refusals use the error envelope.

The integrity checks of :mod:`audit.integrity` (imports, docs, empty modules, files
missing against the legacy tree) run in the same subprocess.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .integrity import IntegrityReport, Problem, app_modules, import_problems, run_probe, static_problems

__all__ = ["VerifyResult", "FactoryError", "find_factory", "run_verify", "VERIFIED_COLUMNS", "ALL_CHECKS"]

VERIFIED_COLUMNS = [
    "method", "path", "file", "line", "handler", "mapped", "served", "map_auth", "map_public",
    "status_no_token", "status_valid_token", "status_forged_token", "envelope",
    "csp", "hsts", "nosniff", "response_time", "verdict", "reason",
]
ALL_CHECKS = ("routes", "auth", "errors", "hardening")
_FACTORY_NAMES = {"create_app", "make_app", "app_factory", "build_app", "get_app", "create_application"}
_APP_CLASSES = {"Flask", "FastAPI"}
_DENIED = {401, 403}


class FactoryError(ValueError):
    """The app's factory could not be found (or several were): ``--factory`` is needed."""


@dataclass
class VerifyResult:
    """What ``verify`` found: per-route verdicts, integrity problems, and whether all is well."""

    app: Path
    factory: str
    framework: str | None
    routes: Any  # pandas DataFrame with VERIFIED_COLUMNS
    integrity: IntegrityReport
    error: str | None = None  # the app could not be built (the traceback's last line)
    out: Path | None = None
    seconds: float = 0.0
    checks: tuple[str, ...] = ALL_CHECKS
    details: list[dict[str, Any]] = field(default_factory=list, repr=False)  # raw probe answers

    @property
    def failing(self) -> Any:
        """The rows whose verdict is ``fail``."""
        return self.routes[self.routes["verdict"] == "fail"]

    @property
    def ok(self) -> bool:
        return self.error is None and self.failing.empty and self.integrity.ok

    def describe(self) -> str:
        head = f"verify {self.app.name} ({self.factory}, {self.framework or 'not built'}): "
        if self.error:
            head += f"the app could not be built: {self.error}"
        else:
            n, bad = len(self.routes), len(self.failing)
            head += f"{n} route(s) probed, {n - bad} ok, {bad} failing"
        lines = [head]
        for row in self.failing.head(25).itertuples():
            lines.append(f"  FAIL {row.method:6} {row.path}  {row.reason}")
        if len(self.failing) > 25:
            lines.append(f"  ... {len(self.failing) - 25} more in routes_verified.csv")
        lines.append(self.integrity.describe())
        if self.out:
            lines.append(f"written: {self.out / 'routes_verified.csv'}")
        lines.append("OK" if self.ok else "NOT OK")
        return "\n".join(lines)


def run_verify(
    app: str | Path,
    factory: str | None = None,
    out: str | Path | None = None,
    expected: Any = None,
    env: dict[str, str] | None = None,
    *,
    legacy: str | Path | None = None,
    checks: Iterable[str] = ALL_CHECKS,
    timeout: float = 300,
) -> VerifyResult:
    """Build the app at ``app`` in a subprocess, probe every route, compare with the map.

    ``factory``: ``module:function`` or ``module:app`` (found by itself when the app has
    exactly one); ``expected``: a MapResult, a map output folder, a dict with a ``routes``
    list (EXPECTED.yml's shape), or None to map ``app`` now (own rules only); ``env``: extra environment for the app; ``legacy``: the tree
    the app was migrated from, to list files the migration lost; ``checks``: a subset of
    :data:`ALL_CHECKS`. Raises :class:`FactoryError` (a ValueError) when no single
    factory is found and none is given, ValueError when ``app`` is not a folder.
    """
    started = time.perf_counter()
    app_dir = Path(app).resolve()
    if not app_dir.is_dir():
        raise ValueError(f"{app}: not a directory")
    checks = tuple(checks)
    unknown = set(checks) - set(ALL_CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; choose from {list(ALL_CHECKS)}")
    if factory is not None and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", factory):
        raise FactoryError(f"--factory {factory!r}: expected module:function or module:app")
    factory = factory or find_factory(app_dir)
    mapped = _mapped_routes(app_dir, expected)
    data = run_probe(app_dir, factory, app_modules(app_dir), env, timeout)
    problems = import_problems(app_dir, {k: v for k, v in data.items() if k != "error"})
    problems += static_problems(app_dir, Path(legacy) if legacy else None)
    if "auth" in checks and not data.get("error"):
        problems += token_scheme_problems(mapped, data.get("routes", []))
    integrity = IntegrityReport(problems, len(data.get("imports", [])))
    rows = compare(mapped, data.get("routes", []), checks) if not data.get("error") else []
    import pandas as pd

    frame = pd.DataFrame(rows, columns=VERIFIED_COLUMNS)
    result = VerifyResult(app_dir, factory, data.get("framework"), frame, integrity, data.get("error"),
                          seconds=time.perf_counter() - started, checks=checks, details=data.get("routes", []))
    if out is not None:
        result.out = Path(out)
        result.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(result.out / "routes_verified.csv", index=False)
        pd.DataFrame(integrity.rows(), columns=["kind", "file", "detail", "severity", "line"]).to_csv(
            result.out / "integrity.csv", index=False)
    return result


# --- the factory --------------------------------------------------------------------


def find_factory(app_dir: str | Path) -> str:
    """``module:function`` of the app's only factory, else ``module:app`` of its only
    module-level app object; FactoryError listing the candidates otherwise.

    A factory is a top-level function named like one (create_app, make_app, ...) or any
    top-level function that builds a ``Flask(...)``/``FastAPI(...)`` and returns it. A
    module-level app is a top-level ``name = Flask(...)`` / ``FastAPI(...)``. Read with
    ``ast``: nothing is imported.
    """
    app_dir = Path(app_dir).resolve()
    factories, apps, serving = [], [], []
    for module in app_modules(app_dir):
        path = _module_path(app_dir, module)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError):
            continue
        rel_module = module
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _builds_app(node):
                factories.append(f"{rel_module}:{node.name}")
                if _wires_routes(node):
                    serving.append(factories[-1])
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_app_call(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for name in (t.id for t in targets if isinstance(t, ast.Name)):
                    apps.append(f"{rel_module}:{name}")
                    if _wires_routes(tree, name):
                        serving.append(apps[-1])
    # An app that registers routes beats a bare one (a worker or CLI app built for its config).
    if len(serving) == 1:
        return serving[0]
    if len(factories) == 1:
        return factories[0]
    if not factories and len(apps) == 1:
        return apps[0]
    found = factories or apps
    if not found:
        raise FactoryError(f"no app factory or module-level Flask/FastAPI app found in {app_dir.name}; "
                           "name it with --factory module:function")
    raise FactoryError(f"several candidate apps in {app_dir.name}: {', '.join(found)}; "
                       "choose one with --factory module:function")


def _module_path(app_dir: Path, module: str) -> Path:
    parts = module.split(".")[1:] if (app_dir / "__init__.py").exists() else module.split(".")
    file = app_dir.joinpath(*parts).with_suffix(".py") if parts else app_dir / "__init__.py"
    return file if file.exists() else app_dir.joinpath(*parts, "__init__.py")


def _is_app_call(node: ast.AST | None) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in _APP_CLASSES


_WIRING = {"register_blueprint", "include_router", "add_url_rule", "add_api_route", "mount", "route",
           "get", "post", "put", "patch", "delete", "websocket"}


def _wires_routes(scope: ast.AST, name: str | None = None) -> bool:
    """Whether ``scope`` registers routes (on ``name`` when given): blueprints, routers,
    add_url_rule, or route decorators."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _WIRING:
            owner = node.func.value
            if name is None or (isinstance(owner, ast.Name) and owner.id == name):
                if node.func.attr in ("get", "post", "put", "patch", "delete") and name is None:
                    continue  # dict.get(...) inside a factory says nothing
                return True
    return False


def _builds_app(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Creates a Flask/FastAPI object and returns something; or is named like a factory and
    returns something (a create_app that delegates the building to a helper)."""
    returns = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(func))
    creates = any(_is_app_call(n) for n in ast.walk(func))
    return returns and (creates or func.name in _FACTORY_NAMES)


# --- what the map expects ------------------------------------------------------------


def _mapped_routes(app_dir: Path, expected: Any) -> list[dict[str, Any]]:
    """Rows (method, path, file, line, handler, auth, public) from a MapResult, a map
    output folder, an EXPECTED.yml-style dict, or a fresh map of ``app_dir``."""
    if expected is None:
        from .api import map as run_map

        expected = run_map(app_dir, bandit=False, semgrep=False, cache=False, progress=False, formats="csv")
    if isinstance(expected, dict) and "routes" in expected:  # EXPECTED.yml content
        return [dict(r) for r in expected["routes"]]
    if isinstance(expected, (str, Path)):
        from .mapping import load_map

        expected = load_map(expected)
    routes = getattr(expected, "route_list", None)
    if routes is None:
        raise ValueError("expected must be a MapResult, a map output folder, or None")
    return [{"method": r.method, "path": r.path, "file": r.file, "line": r.line, "handler": r.handler,
             "auth": bool(r.auth), "public": bool(r.public)} for r in routes]


def route_key(method: str, path: str) -> tuple[str, str]:
    """Routes compare by method and path with parameter names only (``<int:id>`` == ``{id}``)."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)
    path = re.sub(r"{([^}:]+)(?::[^}]*)?}", r"{\1}", path)
    return method.upper(), path


# --- the verdicts --------------------------------------------------------------------


def compare(mapped: list[dict[str, Any]], probed: list[dict[str, Any]], checks: Iterable[str] = ALL_CHECKS
            ) -> list[dict[str, Any]]:
    """One row per (method, path) of either side, with a verdict and the reasons."""
    checks = set(checks)
    by_map = {route_key(r["method"], r["path"]): r for r in mapped}
    by_probe = {route_key(r["method"], r["path"]): r for r in probed}
    rows = []
    for key in sorted(set(by_map) | set(by_probe), key=lambda k: (k[1], k[0])):
        m, p = by_map.get(key), by_probe.get(key)
        base = p or m
        row = {col: "" for col in VERIFIED_COLUMNS} | {
            "method": base["method"], "path": base["path"], "file": base.get("file", ""),
            "line": base.get("line", ""), "handler": base.get("handler", ""),
            "mapped": m is not None, "served": p is not None,
            "map_auth": bool(m and m.get("auth")), "map_public": bool(m and m.get("public")),
        }
        reasons: list[str] = []
        if p is not None:
            none, valid, forged = p.get("none", {}), p.get("valid", {}), p.get("forged", {})
            row.update(status_no_token=none.get("status"), status_valid_token=valid.get("status"),
                       status_forged_token=forged.get("status"), envelope=bool(none.get("envelope")),
                       csp=bool(none.get("csp")), hsts=bool(none.get("hsts")), nosniff=bool(none.get("nosniff")),
                       response_time=bool(none.get("response_time")))
            reasons += _probe_reasons(m, none, valid, forged, checks)
        if "routes" in checks:
            if m is None:
                reasons.append("served but not in the map")
            elif p is None:
                reasons.append("in the map but not served")
        row["verdict"] = "fail" if reasons else "ok"
        row["reason"] = "; ".join(reasons)
        rows.append(row)
    return rows


def token_scheme_problems(mapped: list[dict[str, Any]], probed: list[dict[str, Any]]) -> list[Problem]:
    """An app whose protected routes all refuse a valid contract token does not use the
    contract's scheme (HS256 bearer JWT, ``JWT_SECRET``, ``sub``): one app-level problem."""
    protected = {route_key(r["method"], r["path"]) for r in mapped if r.get("auth")}
    answers = [p.get("valid", {}).get("status") for p in probed if route_key(p["method"], p["path"]) in protected]
    if answers and all(status in _DENIED for status in answers):
        # A warning, not an error: the probe's database is empty, and an app that looks the
        # token's user up refuses a perfectly valid token for a user it does not have.
        return [Problem("token-scheme", "", f"none of the {len(answers)} routes that need auth accepted a valid "
                        "bearer token (HS256, JWT_SECRET, sub \"1\"): either the app does not use the contract's "
                        "token scheme, or it looks the user up and the probe's empty database has no user 1",
                        severity="warning")]
    return []


def _probe_reasons(m: dict | None, none: dict, valid: dict, forged: dict, checks: set[str]) -> list[str]:
    reasons = []
    needs_auth = m is not None and (m.get("auth") or not m.get("public"))
    if "auth" in checks and needs_auth:
        why = "the map says it needs auth" if m.get("auth") else "it is not public"
        if none.get("status") not in _DENIED:
            reasons.append(f"answers {none.get('status')} without credentials ({why})")
        if forged.get("status") not in _DENIED:
            reasons.append(f"answers {forged.get('status')} to a forged token")
    if "errors" in checks:
        for name, answer in (("without credentials", none), ("with a valid token", valid),
                             ("with a forged token", forged)):
            if answer.get("leak"):
                reasons.append(f"shows exception text in a {answer.get('status')} {name}")
            elif answer.get("status") == 500:  # 503 (mock data removed) and gateway errors are answers
                reasons.append(f"crashes (500) {name}")
            if answer.get("error"):
                reasons.append(f"could not be called {name}: {answer['error']}")
    if "hardening" in checks:
        missing = [h for h, present in (("CSP", none.get("csp")), ("HSTS", none.get("hsts")),
                                        ("nosniff", none.get("nosniff")),
                                        ("response-time", none.get("response_time"))) if not present]
        if missing and none.get("status"):
            reasons.append("no " + "/".join(missing) + " header")
        if needs_auth and none.get("status") in _DENIED and not none.get("envelope"):
            reasons.append(f"its {none.get('status')} body is not the error envelope")
    return reasons
