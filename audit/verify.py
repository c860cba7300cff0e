"""``workbench verify APP``: build the app, probe every route, compare with the map.

The app is built and probed in a subprocess (``python -m audit.probe``): importing
an app runs its code, which the workbench process never does. The subprocess gets a
throwaway SQLite ``DATABASE_URL``, an ``UPLOAD_DIR`` and a fresh random ``JWT_SECRET``,
has outbound network connections disabled, fills its database with the app's own seed
(a ``seed`` function or Flask CLI command, found by :func:`find_seed`), and calls every
route through the framework's test client (see :class:`audit.probe.Prober`).

Each route gets one row in ``routes_verified.csv``: what was sent, what came back, the
latencies, and one column per check (``pass`` / ``fail`` / ``warn`` / ``skip``):

* ``routes``: every mapped route is served and every served route is mapped;
* ``auth``: a route that is not public (or that the map says needs auth) answers 401
  (or 403) without a token, with a forged token and with an expired one;
* ``errors``: no answer is a 500 or shows exception text;
* ``validation``: a route that reads request data answers an empty request (when its
  schema requires something, or it has none) and a wrongly typed one with 400
  ``validation_error`` and per-field ``details``;
* ``valid_request``: a request built from the handler's schema, with a valid token,
  succeeds (2xx/3xx; a 403/404 on the sample row, a 503 from a route whose mock data was
  removed, a 502/504 from a route that needs the disabled network are ``warn``, explained);
* ``hardening``: every answer carries the security headers and the response-time header,
  and refusals use the error envelope;
* ``latency``: p95 over repeated in-process calls under ``latency_budget_ms`` (100 ms);
  a route over it is timed again with ``RETIME_CALLS`` more calls and judged on all of
  them, so that one pause of a busy machine does not fail a fast route;
* ``rate_limit``: a sensitive route (the map's ``sensitive`` flag, or the config's
  sensitive list) answers 429 with ``Retry-After`` before ``RATE_LIMIT_ATTEMPTS`` calls.

``verify`` judges the running app. The integrity checks of :mod:`audit.integrity`
(critical files, imports, compile, docs) are a separate gate: verify runs them too and
reports them beside its verdict (``result.integrity``), but they do not change ``ok``.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .integrity import IntegrityReport, Problem, app_modules, integrity_problems, run_probe

__all__ = ["ALL_CHECKS", "FactoryError", "VERIFIED_COLUMNS", "VerifyResult", "compare", "find_factory", "find_seed",
           "run_verify"]

ALL_CHECKS = ("routes", "auth", "errors", "validation", "valid_request", "hardening", "latency", "rate_limit")
VERIFIED_COLUMNS = [
    "method", "path", "file", "line", "handler", "mapped", "served", "map_auth", "map_public", "sensitive", "reads",
    "status_no_token", "status_valid_token", "status_forged_token", "status_expired_token",
    "empty_sent", "status_empty", "code_empty", "wrong_sent", "status_wrong", "code_wrong",
    "valid_sent", "status_valid_request",
    "latency_request", "latency_calls", "latency_p50_ms", "latency_p95_ms",
    "rate_limit_calls", "status_rate_limit", "retry_after",
    "envelope", "csp", "hsts", "nosniff", "response_time",
    *(f"check_{c}" for c in ALL_CHECKS), "verdict", "reason", "warnings",
]
LATENCY_BUDGET_MS = 100.0
_FACTORY_NAMES = {"create_app", "make_app", "app_factory", "build_app", "get_app", "create_application"}
_APP_CLASSES = {"Flask", "FastAPI"}
_DENIED = {401, 403}


class FactoryError(ValueError):
    """The app's factory could not be found (or several were): ``--factory`` is needed."""


@dataclass
class VerifyResult:
    """What ``verify`` found: per-route checks and verdicts, whether all is well, and the
    integrity problems (reported beside the verdict; ``workbench integrity`` is their gate)."""

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
    seed: dict[str, Any] = field(default_factory=dict)  # how the probe's database was filled
    notes: list[str] = field(default_factory=list)  # things the probe did that explain an answer
    warnings: list[Problem] = field(default_factory=list)  # app-level doubts (token scheme)

    @property
    def failing(self) -> Any:
        """The rows whose verdict is ``fail``."""
        return self.routes[self.routes["verdict"] == "fail"]

    @property
    def ok(self) -> bool:
        """The app builds and every route passes every selected check (integrity aside)."""
        return self.error is None and self.failing.empty

    def check_counts(self) -> dict[str, dict[str, int]]:
        """``{check: {"pass": n, "fail": n, "warn": n, "skip": n}}`` over the routes."""
        counts = {}
        for check in self.checks:
            column = self.routes.get(f"check_{check}")
            values = column.value_counts().to_dict() if column is not None else {}
            counts[check] = {k: int(values.get(k, 0)) for k in ("pass", "fail", "warn", "skip")}
        return counts

    def describe(self) -> str:
        head = f"verify {self.app.name} ({self.factory}, {self.framework or 'not built'}): "
        if self.error:
            head += f"the app could not be built: {self.error}"
        else:
            n, bad = len(self.routes), len(self.failing)
            head += f"{n} route(s) probed, {n - bad} ok, {bad} failing"
        lines = [head]
        if self.seed:
            lines.append(f"  seed: {self.seed.get('how')}" + (f" FAILED: {self.seed['error']}"
                                                              if self.seed.get("ok") is False else ""))
        if not self.error:
            for check, c in self.check_counts().items():
                lines.append(f"  {check:14} {c['pass']:3} pass {c['fail']:3} fail {c['warn']:3} warn")
        for row in self.failing.head(25).itertuples():
            lines.append(f"  FAIL {row.method:6} {row.path}  {row.reason}")
        if len(self.failing) > 25:
            lines.append(f"  ... {len(self.failing) - 25} more in routes_verified.csv")
        for note in self.notes:
            lines.append(f"  note: {note}")
        for problem in self.warnings:
            lines.append(f"  warning: {problem.detail}")
        lines.append("integrity (a separate gate, not part of this verdict; see `workbench integrity`):")
        lines.append("  " + self.integrity.describe().replace("\n", "\n  "))
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
    config: Any = None,
    seed: str | None = None,
    repeats: int | None = None,
    latency_budget_ms: float = LATENCY_BUDGET_MS,
    integrity: bool = True,
    request_timeout: float | None = None,
) -> VerifyResult:
    """Build the app at ``app`` in a subprocess, probe every route, compare with the map.

    ``factory``: ``module:function`` or ``module:app`` (found by itself when the app has
    exactly one); ``expected``: a MapResult, a map output folder, a dict with a ``routes``
    list (EXPECTED.yml's shape), or None to map ``app`` now (own rules only); ``env``: extra
    environment for the app; ``legacy``: the tree the app was migrated from, to list files
    the migration lost; ``checks``: a subset of :data:`ALL_CHECKS`; ``timeout``: seconds
    the subprocess may take (an app that hangs fails with a message saying so);
    ``config``: a workbench.toml (or Config) adding sensitive routes; ``seed``:
    ``module:function``, ``cli:NAME`` or ``none`` (default: :func:`find_seed`);
    ``repeats``: calls per route for the latency figures; ``integrity``: also run the
    integrity checks (reported, not part of ``ok``); ``request_timeout``: seconds one
    request may take (a handler that hangs is reported and the probe goes on). Raises :class:`FactoryError` (a
    ValueError) when no single factory is found and none is given, ValueError when
    ``app`` is not a folder.
    """
    from .config import Config, load_config
    from .probe import RATE_LIMIT_ATTEMPTS, REPEATS, REQUEST_TIMEOUT

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
    settings = config if isinstance(config, Config) else load_config(config)
    factory = factory or find_factory(app_dir)
    mapped = _mapped_routes(app_dir, expected)
    for route in mapped:
        route["sensitive"] = _truthy(route.get("sensitive")) or settings.is_sensitive(route["path"], route["method"])
    plan = {
        "seed": seed or find_seed(app_dir),
        "sensitive": sorted({route_key(r["method"], r["path"]) for r in mapped if r["sensitive"]}),
        "repeats": REPEATS if repeats is None else repeats,
        "rate_attempts": RATE_LIMIT_ATTEMPTS if "rate_limit" in checks else 0,
        "request_timeout": REQUEST_TIMEOUT if request_timeout is None else request_timeout,
        "latency_budget_ms": latency_budget_ms,
        # only the probes the chosen checks need (the credential probes always run)
        "phases": ["credentials"] + (["inputs"] if "validation" in checks else [])
        + (["valid"] if {"valid_request", "latency"} & set(checks) else [])
        + (["rate_limit"] if "rate_limit" in checks else []),
    }
    modules = app_modules(app_dir) if integrity else []
    data = run_probe(app_dir, factory, modules, env, timeout, plan=plan)
    problems = integrity_problems(app_dir, data, legacy=legacy, factory=factory) if integrity else []
    warnings = token_scheme_problems(mapped, data.get("routes", [])) if "auth" in checks and not data.get("error") else []
    report = IntegrityReport(problems, len(data.get("imports", [])))
    rows = compare(mapped, data.get("routes", []), checks, latency_budget_ms) if not data.get("error") else []
    import pandas as pd

    frame = pd.DataFrame(rows, columns=VERIFIED_COLUMNS)
    result = VerifyResult(app_dir, factory, data.get("framework"), frame, report, data.get("error"),
                          seconds=time.perf_counter() - started, checks=checks, details=data.get("routes", []),
                          seed=data.get("seed") or {}, notes=list(data.get("identity_events") or []),
                          warnings=warnings)
    if out is not None:
        result.out = Path(out)
        result.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(result.out / "routes_verified.csv", index=False)
        pd.DataFrame(report.rows(), columns=["kind", "file", "detail", "severity", "line"]).to_csv(
            result.out / "integrity.csv", index=False)
    return result


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


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


_SEED_NAME = re.compile(r"^(seed\w*|\w*_seed|populate\w*|load_(demo|sample|fixture)\w*|create_(demo|sample)\w*)$")


def find_seed(app_dir: str | Path) -> str:
    """``module:function`` of the app's seed (demo data) function, so that the probe's
    empty database has rows; ``auto`` when there is none (the probe then looks for a Flask
    CLI command named like seed).

    A seed function is a top-level function named like one (``seed``, ``seed_demo_data``,
    ``populate_db``, ``load_fixtures``...) that can be called without arguments; one in a
    module named like seed/fixtures/demo wins. Read with ``ast``: nothing is imported.
    """
    app_dir = Path(app_dir).resolve()
    found: list[tuple[int, str]] = []
    for module in app_modules(app_dir):
        try:
            tree = ast.parse(_module_path(app_dir, module).read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError):
            continue
        leaf = module.rsplit(".", 1)[-1].lower()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _SEED_NAME.match(node.name.lower()) \
                    and len(node.args.defaults) >= len(node.args.posonlyargs + node.args.args) \
                    and all(d is not None for d in node.args.kw_defaults):
                rank = 0 if re.search(r"seed|fixture|demo", leaf) else 1
                found.append((rank, f"{module}:{node.name}"))
    return min(found)[1] if found else "auto"


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
             "auth": bool(r.auth), "public": bool(r.public), "validated": bool(r.validated),
             "rate_limited": bool(r.rate_limited), "sensitive": bool(getattr(r, "sensitive", False))}
            for r in routes]


def route_key(method: str, path: str) -> tuple[str, str]:
    """Routes compare by method and path with parameter names only (``<int:id>`` == ``{id}``)."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)
    path = re.sub(r"{([^}:]+)(?::[^}]*)?}", r"{\1}", path)
    return method.upper(), path


# --- the verdicts --------------------------------------------------------------------


def compare(mapped: list[dict[str, Any]], probed: list[dict[str, Any]], checks: Iterable[str] = ALL_CHECKS,
            latency_budget_ms: float = LATENCY_BUDGET_MS) -> list[dict[str, Any]]:
    """One row per (method, path) of either side: what was sent and answered, one
    ``check_*`` column per check (pass/fail/warn/skip), a verdict and the reasons."""
    checks = tuple(checks)
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
            "sensitive": bool(m and m.get("sensitive")),
        }
        verdicts: dict[str, tuple[str, list[str]]] = {}
        if p is not None:
            _fill_answers(row, p)
            verdicts = _judge(m, p, latency_budget_ms)
        verdicts["routes"] = ("fail", ["served but not in the map"]) if m is None else \
            ("fail", ["in the map but not served"]) if p is None else ("pass", [])
        reasons: list[str] = []
        for check in ALL_CHECKS:
            status, why = verdicts.get(check, ("skip", []))
            if check not in checks:
                status, why = "skip", []
            row[f"check_{check}"] = status
            if status == "fail":
                reasons += why
        row["verdict"] = "fail" if reasons else "ok"
        row["reason"] = "; ".join(reasons)
        row["warnings"] = "; ".join(w for check in checks for w in verdicts.get(check, ("", []))[1]
                                    if verdicts.get(check, ("", []))[0] == "warn")
        rows.append(row)
    return rows


def _fill_answers(row: dict[str, Any], p: dict[str, Any]) -> None:
    none, valid, forged, expired = (p.get(k) or {} for k in ("none", "valid", "forged", "expired"))
    empty, wrong, good = (p.get(k) or {} for k in ("empty", "wrong", "valid_request"))
    latency, limit = p.get("latency") or {}, p.get("rate_limit") or {}
    row.update(
        reads=p.get("reads", ""), status_no_token=none.get("status"), status_valid_token=valid.get("status"),
        status_forged_token=forged.get("status"), status_expired_token=expired.get("status"),
        empty_sent=empty.get("sent", ""), status_empty=empty.get("status"), code_empty=empty.get("code"),
        wrong_sent=wrong.get("sent", ""), status_wrong=wrong.get("status"), code_wrong=wrong.get("code"),
        valid_sent=good.get("sent", ""), status_valid_request=good.get("status"),
        latency_request=latency.get("request", ""), latency_calls=latency.get("calls"),
        latency_p50_ms=latency.get("p50"), latency_p95_ms=latency.get("p95"),
        rate_limit_calls=limit.get("calls"), status_rate_limit=limit.get("status"),
        retry_after=limit.get("retry_after"),
        envelope=bool(none.get("envelope")), csp=bool(none.get("csp")), hsts=bool(none.get("hsts")),
        nosniff=bool(none.get("nosniff")), response_time=bool(none.get("response_time")),
    )


def _judge(m: dict[str, Any] | None, p: dict[str, Any], budget_ms: float) -> dict[str, tuple[str, list[str]]]:
    """(status, reasons) per check for one probed route."""
    answers = {name: p.get(key) or {} for name, key in (
        ("without credentials", "none"), ("with a valid token", "valid"), ("with a forged token", "forged"),
        ("with an expired token", "expired"), ("to an empty request", "empty"),
        ("to a wrongly typed request", "wrong"), ("to a valid request", "valid_request"))}
    needs_auth = m is not None and bool(m.get("auth") or not m.get("public"))
    out: dict[str, tuple[str, list[str]]] = {}

    # auth: no way in without a valid credential
    if needs_auth:
        why = "the map says it needs auth" if m.get("auth") else "it is not public"
        reasons = []
        for key, what in (("none", "without credentials"), ("forged", "to a forged token"),
                          ("expired", "to an expired token")):
            status = p[key].get("status") if key in p else 401
            if status not in _DENIED:
                reasons.append(f"answers {status} {what}" + (f" ({why})" if key == "none" else ""))
            elif status != 401:  # refused, but the contract's answer to a missing or bad token is 401
                reasons.append(f"answers {status} {what}, not 401")
        out["auth"] = ("fail" if reasons else "pass", reasons)

    # errors: nothing crashes, nothing leaks
    reasons, doubts = [], []
    for name, answer in answers.items():
        if answer.get("leak"):
            reasons.append(f"shows exception text in a {answer.get('status')} {name}")
        elif answer.get("status") == 500 and answer.get("network_blocked"):
            doubts.append(f"answers 500 {name} when its outbound request fails (the probe disables the "
                          "network): an upstream failure deserves a 502")
        elif answer.get("status") == 500:  # 503 (mock data removed) and gateway errors are answers
            reasons.append(f"crashes (500) {name}")
        if answer.get("error"):
            reasons.append(f"could not be called {name}: {answer['error']}")
    out["errors"] = ("fail", reasons) if reasons else ("warn", doubts) if doubts else ("pass", [])

    # validation: an empty and a wrongly typed request are refused with 400 validation_error
    if p.get("empty"):
        reasons = []
        must_refuse_empty = bool(p.get("requires")) or not p.get("schema_known")
        probes = [("an empty request", p["empty"])] if must_refuse_empty else []
        if p.get("wrong"):
            probes.append(("a wrongly typed request", p["wrong"]))
        doubts = []
        for what, answer in probes:
            if answer.get("status") in (403, 404) and p.get("params"):
                doubts.append(f"answers {answer.get('status')} to {what} for the sample row, before validating: "
                              "the probe's user may not touch that row")
            elif answer.get("status") != 400 or answer.get("code") != "validation_error":
                code = f" ({answer.get('code')})" if answer.get("code") else ""
                reasons.append(f"answers {answer.get('status')}{code} to {what}, not 400 validation_error")
            elif not answer.get("details"):
                reasons.append(f"its validation_error to {what} has no per-field details")
        out["validation"] = ("fail", reasons) if reasons else ("warn", doubts) if doubts else \
            ("pass" if probes else "skip", [])

    # a valid request succeeds
    good = p.get("valid_request")
    if good:
        out["valid_request"] = _judge_valid(good, p)

    # hardening: headers on every answer, envelope on refusals
    reasons = []
    missing = sorted({h for answer in answers.values() if answer.get("status") for h, key in (
        ("CSP", "csp"), ("HSTS", "hsts"), ("nosniff", "nosniff"), ("response-time", "response_time"))
        if not answer.get(key)}, key=["CSP", "HSTS", "nosniff", "response-time"].index)
    if missing:
        reasons.append("no " + "/".join(missing) + " header")
    refusals = [(name, a) for name, a in answers.items() if 400 <= (a.get("status") or 0) < 600 and a.get("status") != 404]
    if needs_auth and p["none"].get("status") in _DENIED and not p["none"].get("envelope"):
        reasons.append(f"its {p['none'].get('status')} body is not the error envelope")
    elif any(not a.get("envelope") for _, a in refusals):
        name, answer = next((n, a) for n, a in refusals if not a.get("envelope"))
        reasons.append(f"its {answer.get('status')} {name} is not the error envelope")
    out["hardening"] = ("fail" if reasons else "pass", reasons)

    # latency
    latency = p.get("latency") or {}
    if latency.get("p95") is not None:
        slow = latency["p95"] >= budget_ms
        retimed = f", {latency['retimed']} of them timed again" if latency.get("retimed") else ""
        why = [f"p95 {latency['p95']:.0f} ms over {latency['calls']} calls{retimed} (budget {budget_ms:.0f} ms)"]
        if slow and latency.get("network_blocked"):  # timed through a failing outbound call and its logging
            out["latency"] = ("warn", [why[0] + ", each call failing on the disabled network"])
        else:
            out["latency"] = ("fail", why) if slow else ("pass", [])

    # rate limits on sensitive routes
    limit = p.get("rate_limit")
    if limit is not None and limit.get("calls"):
        if limit.get("status") != 429:
            out["rate_limit"] = ("fail", [f"sensitive route: no 429 after {limit['calls']} calls"])
        elif not limit.get("retry_after"):
            out["rate_limit"] = ("fail", [f"429 after {limit['calls']} calls but no Retry-After header"])
        else:
            out["rate_limit"] = ("pass", [])
    return out


def _judge_valid(good: dict[str, Any], p: dict[str, Any]) -> tuple[str, list[str]]:
    status = good.get("status") or 0
    sent = good.get("sent", "")
    if 200 <= status < 400:
        return "pass", []
    if good.get("network_blocked") and status >= 500:
        return "warn", [f"{status} ({sent}): the route needs the network, which the probe disables"]
    if status == 404 and p.get("params"):
        return "warn", [f"404 for the sample row ({sent}): the seeded data has no such row"]
    if status == 404 and p.get("reads"):
        return "warn", [f"404 for the sample values ({sent}): no row matches them"]
    if status in (400, 401, 403) and p.get("valid_request_credentials") and good.get("code") != "validation_error":
        return "warn", [f"{status} ({sent}): the request carries a credential (password, token, code) that the "
                        "probe cannot know"]
    if status == 403:
        return "warn", [f"403 to the probe's user ({sent}): an ownership or role check refused it"]
    if status == 409:
        return "warn", [f"409 conflict ({sent}): the sample row already exists"]
    if status == 503:
        return "warn", [f"503 ({sent}): the route has no data source (mock data removed) and says so"]
    if status in (502, 504):
        return "warn", [f"{status} ({sent}): the route needs the network, which the probe disables"]
    code = f" {good.get('code')}" if good.get("code") else ""
    built = "" if not p.get("reads") else " built from its schema" if p.get("schema_known") else \
        " (it has no schema to build one from)"
    return "fail", [f"answers {status}{code} to a valid request{built} ({sent})"]


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
                        "token scheme, or it looks the user up and the probe's database (seeded when the app has a seed) "
                        "has no user 1",
                        severity="warning")]
    return []


