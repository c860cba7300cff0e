"""audit.plan: batches by route module and risk, built from synthetic map results."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from audit.model import Category, Finding, Route, Severity
from audit.plan import FOUNDATION, PlanError, load_plan, make_plan, risk_by_module, risk_by_route


def route(method, path, file, line, end, **flags):
    return Route(method=method, path=path, file=file, line=line, handler=f"h{line}", framework="flask",
                 end_line=end, **flags)


def finding(category, severity, file, line, route="", fixed_by="a-codemod", suppressed=False):
    return Finding(rule_id="WB000", category=category, severity=severity, confidence=Severity.HIGH,
                   file=file, line=line, message=f"{category} at {file}:{line}", route=route,
                   fixed_by=fixed_by, suppressed=suppressed, snippet=f"line {line}")


@pytest.fixture
def app_map():
    routes = [
        route("GET", "/api/posts/", "routes/posts.py", 10, 20),
        route("POST", "/api/posts/", "routes/posts.py", 22, 40),
        route("POST", "/api/login", "routes/auth.py", 5, 30, public=True),
        route("GET", "/api/users/<int:id>", "routes/users.py", 8, 15, auth=True),
        route("GET", "/api/files/<name>", "routes/files.py", 3, 9),
        route("GET", "/health", "routes/health.py", 1, 3, public=True),
    ]
    findings = [
        # posts: two missing-auth highs and an injection -> riskiest
        finding(Category.MISSING_AUTH, Severity.HIGH, "routes/posts.py", 10, "GET /api/posts/", "add-auth"),
        finding(Category.MISSING_AUTH, Severity.HIGH, "routes/posts.py", 22, "POST /api/posts/", "add-auth"),
        finding(Category.INJECTION, Severity.HIGH, "routes/posts.py", 30, "", None),  # attributed by position
        # auth: a rate limit and a weak password
        finding(Category.MISSING_RATE_LIMIT, Severity.MEDIUM, "routes/auth.py", 5, "POST /api/login", "add-rate-limits"),
        finding(Category.WEAK_PASSWORD, Severity.MEDIUM, "routes/auth.py", 12, "POST /api/login", "hash-passwords"),
        # users: a debug print (low)
        finding(Category.DEBUG_LOGGING, Severity.LOW, "routes/users.py", 9, "GET /api/users/<int:id>", "replace-prints"),
        # files: a suppressed high that must not count
        finding(Category.SSRF, Severity.HIGH, "routes/files.py", 4, "GET /api/files/<name>", "guard-ssrf", suppressed=True),
        finding(Category.UNRESTRICTED_UPLOAD, Severity.MEDIUM, "routes/files.py", 5, "GET /api/files/<name>", "check-uploads"),
        # non-route files -> foundation
        finding(Category.HARDCODED_SECRET, Severity.HIGH, "config.py", 3, "", "require-secrets"),
        finding(Category.AUTH_BYPASS, Severity.HIGH, "auth.py", 14, "", "add-auth"),
        finding(Category.MISSING_SECURITY_HEADERS, Severity.MEDIUM, "__init__.py", 7, "", "add-security-setup"),
        finding(Category.BROKEN_IMPORT, Severity.LOW, "storage.py", 2, "", None),
    ]
    return SimpleNamespace(route_list=routes, finding_list=findings, src="legacy_app")


def test_foundation_batch_holds_non_route_files_and_comes_first(app_map):
    plan = make_plan(app_map, batch_size=2)
    first = plan.batches[0]
    assert first.id == 0 and first.name == FOUNDATION
    assert set(first.files) == {"config.py", "auth.py", "__init__.py", "storage.py"}
    assert first.modules == () and first.routes == ()
    assert first.findings == {"auth-bypass": 1, "hardcoded-secret": 1, "missing-security-headers": 1}
    assert first.manual == {"broken-import": 1}
    assert set(first.codemods) == {"add-auth", "require-secrets", "add-security-setup"}
    assert all(b.depends_on == (0,) for b in plan.batches[1:])


def test_route_modules_riskiest_first_in_batches_of_batch_size(app_map):
    plan = make_plan(app_map, batch_size=2)
    route_batches = plan.batches[1:]
    assert [b.id for b in route_batches] == [1, 2, 3]
    modules = [m for b in route_batches for m in b.modules]
    # posts (2 x missing-auth high + injection high) > auth (2 medium, 1.0 and 1.25 weights)
    # > files (medium upload, the suppressed ssrf ignored) > users (one low) > health (nothing)
    assert modules == ["routes/posts.py", "routes/auth.py", "routes/files.py", "routes/users.py", "routes/health.py"]
    assert [len(b.modules) for b in route_batches] == [2, 2, 1]
    assert route_batches[0].risk > route_batches[1].risk > route_batches[2].risk
    first = route_batches[0]
    assert set(first.routes) == {"GET /api/posts/", "POST /api/posts/", "POST /api/login"}
    assert first.findings == {"missing-auth": 2, "missing-rate-limit": 1, "weak-password": 1}
    assert first.manual == {"injection": 1}
    assert first.codemods == ("add-auth", "add-rate-limits", "hash-passwords")


def test_batch_size_changes_the_grouping(app_map):
    assert len(make_plan(app_map, batch_size=1).batches) == 1 + 5
    assert len(make_plan(app_map, batch_size=10).batches) == 1 + 1


def test_min_severity_filters_findings(app_map):
    plan = make_plan(app_map, batch_size=10, min_severity="high")
    removed = {k: v for b in plan.batches for k, v in b.findings.items()}
    assert removed == {"missing-auth": 2, "hardcoded-secret": 1, "auth-bypass": 1}
    assert "storage.py" not in plan.batches[0].files  # its only finding is low


def test_suppressed_findings_are_not_planned(app_map):
    plan = make_plan(app_map, batch_size=10)
    assert all("ssrf" not in b.findings for b in plan.batches)


def test_every_finding_is_in_exactly_one_batch(app_map):
    plan = make_plan(app_map, batch_size=2)
    total = sum(b.removed + sum(b.manual.values()) for b in plan.batches)
    assert total == sum(1 for f in app_map.finding_list if not f.suppressed)
    files = [f for b in plan.batches for f in b.files]
    assert len(files) == len(set(files))


def test_files_through_accumulates_in_plan_order(app_map):
    plan = make_plan(app_map, batch_size=2)
    assert plan.files_through(0) == list(plan.batches[0].files)
    assert plan.files_through(1) == list(plan.batches[0].files) + ["routes/posts.py", "routes/auth.py"]
    with pytest.raises(PlanError):
        plan.files_through(42)


def test_json_round_trip_and_frame(app_map, tmp_path):
    plan = make_plan(app_map, batch_size=2)
    path = plan.to_json(tmp_path / "out" / "plan.json")
    data = json.loads(path.read_text())
    assert data["batch_size"] == 2 and len(data["batches"]) == 4
    assert load_plan(path) == plan
    frame = plan.to_frame()
    assert list(frame["batch"]) == [0, 1, 2, 3]
    assert frame.loc[1, "removes"] == 4 and frame.loc[1, "needs_a_human"] == 1
    assert frame.loc[0, "name"] == FOUNDATION


def test_no_foundation_when_only_route_files(app_map):
    app_map.finding_list = [f for f in app_map.finding_list if f.file.startswith("routes/")]
    plan = make_plan(app_map, batch_size=3)
    assert plan.batches[0].id == 1 and plan.batches[0].depends_on == ()


def test_empty_map_gives_empty_plan():
    plan = make_plan(SimpleNamespace(route_list=[], finding_list=[]), batch_size=4)
    assert plan.batches == () and plan.to_frame().empty


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"batch_size": -1}, {"batch_size": "2"},
                                    {"min_severity": "critical"}])
def test_bad_parameters_raise_plan_error(app_map, kwargs):
    with pytest.raises(PlanError):
        make_plan(app_map, **kwargs)


def test_bad_inputs_raise_plan_error(tmp_path):
    with pytest.raises(PlanError):
        make_plan(object())
    with pytest.raises(PlanError):
        make_plan(tmp_path / "missing")
    with pytest.raises(PlanError):
        load_plan(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PlanError):
        load_plan(tmp_path / "bad.json")


def test_risk_by_route_orders_and_attributes(app_map):
    frame = risk_by_route(app_map)
    assert frame.loc[0, "route"] == "POST /api/posts/"  # missing-auth high + injection high (by position)
    assert frame.loc[0, "findings"] == 2
    assert list(frame["risk"]) == sorted(frame["risk"], reverse=True)
    health = frame[frame["route"] == "GET /health"].iloc[0]
    assert health["findings"] == 0 and health["risk"] == 0


def test_risk_by_module_marks_foundation(app_map):
    frame = risk_by_module(app_map).set_index("module")
    assert frame.loc["config.py", "kind"] == FOUNDATION
    assert frame.loc["routes/posts.py", "kind"] == "routes" and frame.loc["routes/posts.py", "routes"] == 2


# --- apply_plan with a stand-in for audit.migrate --------------------------------------

class FakeMigrate:
    """Records the calls; its diff touches every requested file (all files when None)."""

    def __init__(self, all_files):
        self.calls = []
        self.all_files = all_files

    def __call__(self, src, target, *, only, skip, files, jobs, config, progress):
        self.calls.append({"files": files, "only": only, "skip": skip})
        touched = sorted(self.all_files if files is None else files) + ["workbench_security.py"]
        diff = "".join(f"--- a/{f}\n+++ b/{f}\n@@ -1 +1 @@\n-old\n+new\n" for f in touched)
        return SimpleNamespace(diff=diff, report={"files": {"routes/posts.py": {"left_for_human": ["raw SQL"]}}})


def _all_files(plan):
    return [f for b in plan.batches for f in b.files]


def test_apply_all_at_once_is_one_migration_split_per_batch(app_map, tmp_path):
    plan = make_plan(app_map, batch_size=2)
    fake = FakeMigrate(_all_files(plan))
    from audit.plan import apply_plan

    result = apply_plan(plan, "legacy", tmp_path / "t", migrate=fake, only="add-auth, add-rate-limits")
    assert len(fake.calls) == 1 and fake.calls[0]["files"] is None  # the whole tree, like `workbench migrate`
    assert fake.calls[0]["only"] == ["add-auth", "add-rate-limits"]
    assert [o.batch for o in result.outcomes] == [0, 1, 2, 3]
    assert "workbench_security.py" in result.outcomes[0].files_changed  # added modules go with batch 0
    assert set(result.outcomes[1].files_changed) == {"routes/posts.py", "routes/auth.py"}
    assert result.outcomes[0].seconds is not None and result.outcomes[1].seconds is None
    assert result.left_for_human().to_dict("records") == [{"file": "routes/posts.py", "note": "raw SQL"}]
    path = result.to_json(tmp_path / "mitigate.json")
    assert json.loads(path.read_text())["batches"][1]["files_changed"] == ["routes/auth.py", "routes/posts.py"]


def test_apply_by_batch_accumulates_and_shows_each_file_once(app_map, tmp_path):
    plan = make_plan(app_map, batch_size=2)
    fake = FakeMigrate(_all_files(plan))
    from audit.plan import apply_plan

    result = apply_plan(plan, "legacy", tmp_path / "t", by_batch=True, migrate=fake)
    files = [c["files"] for c in fake.calls]
    assert files[0] == sorted(plan.batches[0].files)
    assert files[1] == sorted(plan.files_through(1))
    assert files[-1] is None  # the last step covers the whole tree
    shown = [f for o in result.outcomes for f in o.files_changed]
    assert len(shown) == len(set(shown))
    assert all(o.seconds is not None for o in result.outcomes)


def test_apply_selected_batches_adds_the_foundation(app_map, tmp_path):
    plan = make_plan(app_map, batch_size=2)
    fake = FakeMigrate(_all_files(plan))
    from audit.plan import apply_plan

    result = apply_plan(plan, "legacy", tmp_path / "t", batches=[2], migrate=fake)
    assert [o.batch for o in result.outcomes] == [0, 2]
    assert fake.calls[0]["files"] == sorted(set(plan.batches[0].files) | set(plan.batches[2].files))
    with pytest.raises(PlanError):
        apply_plan(plan, "legacy", tmp_path / "t", batches=[9], migrate=fake)
