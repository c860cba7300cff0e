"""Round trip: after a codemod, every INVALID example of the rules it fixes passes those rules.

Generic over ``all_rules()``: a rule whose ``fixed_by`` names a codemod module joins the
test as soon as it exists. Each example becomes a small project, migrated with that one
codemod (the security module comes with it), then mapped; the rule must not fire in the
example's own files any more.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from audit.codemods import all_codemods
from audit.migrate import run_migration
from audit.rules import Example, all_rules

CODEMOD_MODULES = {c.__module__.rsplit(".", 1)[1]: c for c in all_codemods()}


def _flask_only(example: Example | str) -> bool:
    # The codemods migrate Flask apps (CONTRACT.md section 4); FastAPI examples are
    # mapped by the rules but not rewritten.
    code = example if isinstance(example, str) else example.code + "".join(c for _, c in example.files)
    return "fastapi" not in code


# Examples the codemods do not fix yet, each with the reason (strict: the day a codemod
# learns the pattern, the xfail turns into a failure and this entry must go).
KNOWN_GAPS: dict[tuple[str, str], str] = {}  # (rule id, a marker in the example's code) -> reason


def _gap(rule, example) -> str | None:
    code = example if isinstance(example, str) else example.code
    return next((reason for (rule_id, marker), reason in KNOWN_GAPS.items()
                 if rule.id == rule_id and marker in code), None)


def _cases():
    cases = []
    for rule in all_rules():
        if rule.fixed_by not in CODEMOD_MODULES:
            continue
        for index, example in enumerate(rule.INVALID):
            if not _flask_only(example):
                continue
            gap = _gap(rule, example)
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            cases.append(pytest.param(rule, example, id=f"{rule.id}-{rule.fixed_by}-{index}", marks=marks))
    return cases


def _write(root: Path, example: Example | str) -> list[str]:
    example = example if isinstance(example, Example) else Example(example)
    files = {example.path: example.code, **dict(example.files)}
    for rel, code in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
    return sorted(files)


@pytest.mark.slow
@pytest.mark.parametrize("rule, example", _cases())
def test_invalid_example_passes_after_its_codemod(rule, example, tmp_path):
    import audit

    src, target = tmp_path / "src", tmp_path / "target"
    example_files = _write(src, example)
    before = audit.map(src, bandit=False, semgrep=False, cache=False, jobs=1)
    assert any(f.rule_id == rule.id for f in before.finding_list), "the example should fire before the migration"
    codemod = CODEMOD_MODULES[rule.fixed_by]
    run_migration(src, target, only=[codemod.NAME], jobs=1, progress=False)
    after = audit.map(target, bandit=False, semgrep=False, cache=False, jobs=1)
    left = [f for f in after.finding_list if f.rule_id == rule.id and f.file in example_files and not f.suppressed]
    assert not left, "\n".join(f"{f.file}:{f.line} {f.message}" for f in left) + "\n\n" + "\n".join(
        (target / f).read_text() for f in example_files)
