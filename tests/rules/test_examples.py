"""Every rule's VALID / INVALID examples, run through the real map engine, plus the rule
documentation contract (ruff headings, id range, examples present)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit.model import Category
from audit.rules import Example, Rule, all_rules

RULES = all_rules()

# Rule id ranges by category (COMMON.md): the first digit of the number after "WB".
ID_RANGE = {
    Category.AUTH_BYPASS: 1, Category.MISSING_AUTH: 1, Category.WS_UNAUTHORIZED: 1,
    Category.MISSING_RATE_LIMIT: 1,
    Category.UNVALIDATED_INPUT: 2, Category.UNRESTRICTED_UPLOAD: 2, Category.INJECTION: 2, Category.SSRF: 2,
    Category.HARDCODED_SECRET: 3, Category.INSECURE_CONFIG: 3, Category.MISSING_SECURITY_HEADERS: 3,
    Category.DEBUG_LOGGING: 4, Category.INCONSISTENT_ERROR: 4, Category.MOCK_DATA: 4,
    Category.WEAK_PASSWORD: 5,
    Category.BROKEN_IMPORT: 6,
}


def _as_example(example: Example | str) -> Example:
    return example if isinstance(example, Example) else Example(example)


def _cases(kind: str):
    for rule in RULES:
        for i, example in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, _as_example(example), id=f"{rule.id}-{rule.name}-{kind.lower()}{i}")


def _write_project(tmp_path: Path, example: Example) -> Path:
    src = tmp_path / "src"
    files = {example.path: example.code, **dict(example.files)}
    for rel, code in files.items():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    # Every folder of the example is a package unless the example says otherwise, so that
    # relative imports mean what they mean in a real project.
    for rel in files:
        parent = (src / rel).parent
        while parent != src:
            init = parent / "__init__.py"
            if not init.exists():
                init.write_text("", encoding="utf-8")
            parent = parent.parent
    return src


def _findings_of(rule: type[Rule], src: Path, example: Example):
    import audit

    result = audit.map(src, bandit=False, semgrep=False, cache=False, jobs=1)
    errors = [e for e in result.summary.get("rule_errors", []) if e.get("rule") == rule.id]
    assert not errors, f"{rule.id} raised: {errors}"
    return [f for f in result.finding_list if f.rule_id == rule.id and f.file == example.path]


@pytest.mark.parametrize(("rule", "example"), list(_cases("INVALID")))
def test_invalid_example_is_flagged(rule: type[Rule], example: Example, tmp_path: Path) -> None:
    src = _write_project(tmp_path, example)
    found = _findings_of(rule, src, example)
    assert found, f"{rule.id} found nothing in:\n{example.code}"
    flagged = {f.line for f in found}
    missing = [line for line in example.lines if line not in flagged]
    assert not missing, f"{rule.id} did not flag lines {missing} (flagged {sorted(flagged)}) in:\n{example.code}"


@pytest.mark.parametrize(("rule", "example"), list(_cases("VALID")))
def test_valid_example_is_clean(rule: type[Rule], example: Example, tmp_path: Path) -> None:
    src = _write_project(tmp_path, example)
    found = _findings_of(rule, src, example)
    assert not found, f"{rule.id} flagged a valid example at {[f.line for f in found]}:\n{example.code}"


HEADINGS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_is_documented(rule: type[Rule]) -> None:
    doc = rule.doc()
    positions = [doc.find(h) for h in HEADINGS]
    assert all(p >= 0 for p in positions), f"{rule.id}: docstring lacks one of {HEADINGS}"
    assert positions == sorted(positions), f"{rule.id}: headings out of order"
    assert re.fullmatch(r"WB\d{3}", rule.id)
    assert int(rule.id[2]) == ID_RANGE[rule.category], f"{rule.id} is outside the range of {rule.category}"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.VALID and rule.INVALID, f"{rule.id} needs VALID and INVALID examples"
    for example in rule.INVALID:
        assert _as_example(example).lines, f"{rule.id}: INVALID examples must list the lines to flag"


def test_rule_ids_and_names_are_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_every_category_has_a_rule() -> None:
    covered = {r.category for r in RULES}
    assert covered == set(Category) - {Category.OTHER}, set(Category) - {Category.OTHER} - covered


def test_fixed_by_names_a_known_codemod() -> None:
    known = {
        "add_authentication", "remove_identity_bypass", "add_validation", "add_rate_limits",
        "replace_print_with_logging", "remove_mock_data", "require_secrets", "guard_outbound_urls",
        "guard_uploads", "harden_passwords", "unify_errors", "add_security_setup", "secure_socketio",
    }
    for rule in RULES:
        assert rule.fixed_by is None or rule.fixed_by in known, (rule.id, rule.fixed_by)
