"""The bandit adapter: parsing recorded JSON, the category mapping and its line filters, real runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.adapters import ToolError, bandit
from audit.model import Category, Severity

from .recordings import SAMPLE, recorded


def by_line(findings):
    return {(f.rule_id, f.line): f for f in findings}


def test_parse_recorded_report_maps_categories() -> None:
    found = by_line(bandit.parse(recorded("bandit_sample.json"), SAMPLE))
    assert found[("B324", 23)].category is Category.WEAK_PASSWORD  # md5 of a password
    assert found[("B324", 27)].category is Category.OTHER  # md5 etag: not a password
    assert found[("B105", 19)].category is Category.HARDCODED_SECRET  # ADMIN_PASSWORD = "..."
    assert found[("B105", 18)].category is Category.OTHER  # TOKEN_TYPE = "bearer"
    assert found[("B608", 41)].category is Category.OTHER  # WB220 judges SQL by its request data
    assert found[("B602", 48)].category is Category.INJECTION
    assert found[("B301", 61)].category is Category.INJECTION
    assert found[("B501", 66)].category is Category.INSECURE_CONFIG
    assert found[("B201", 71)].category is Category.INSECURE_CONFIG
    assert found[("B404", 5)].category is Category.OTHER


def test_parse_fills_contract_fields() -> None:
    findings = bandit.parse(recorded("bandit_sample.json"), SAMPLE)
    md5 = by_line(findings)[("B324", 23)]
    assert md5.file == "app.py"
    assert md5.snippet == "return hashlib.md5(password.encode()).hexdigest()"
    assert md5.source == ("bandit",)
    assert md5.severity is Severity.HIGH and md5.confidence is Severity.HIGH
    assert md5.cwe == 327
    assert md5.tool_ids == ("B324",)
    assert md5.fingerprint
    assert all("/" not in f.file or not f.file.startswith("/") for f in findings)


def test_parse_makes_absolute_paths_relative(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("x = 1\nSECRET_KEY = 'abc'\n")
    raw = {"results": [{"test_id": "B105", "test_name": "hardcoded_password_string",
                        "filename": str(tmp_path / "pkg" / "mod.py"), "line_number": 2, "line_range": [2],
                        "issue_severity": "LOW", "issue_confidence": "MEDIUM", "issue_text": "Possible password",
                        "issue_cwe": {"id": 259}}]}
    [finding] = bandit.parse(raw, tmp_path)
    assert finding.file == "pkg/mod.py"
    assert finding.category is Category.HARDCODED_SECRET
    assert finding.snippet == "SECRET_KEY = 'abc'"


def test_parse_skips_malformed_entries() -> None:
    raw = {"results": [{"test_id": "B105"}, {"filename": "x.py", "line_number": "nan", "test_id": "B1"}, None]}
    assert bandit.parse({"results": raw["results"][:2]}, SAMPLE) == []
    assert bandit.parse({}, SAMPLE) == []


@pytest.mark.parametrize(("test_id", "line", "enclosing", "category"), [
    ("B324", "digest = hashlib.md5(body).hexdigest()", "def etag(body):", Category.OTHER),
    ("B324", "return hashlib.sha1(raw).hexdigest()", "def hash_password(raw):", Category.WEAK_PASSWORD),
    ("B303", "h = md5(user_password)", "", Category.WEAK_PASSWORD),
    ("B105", 'token_type = "bearer"', "", Category.OTHER),
    ("B105", 'JWT_SECRET = "s3cret"', "", Category.HARDCODED_SECRET),
    ("B106", 'connect(password="admin")', "", Category.HARDCODED_SECRET),
    ("B106", 'Token(token_type="Bearer")', "", Category.OTHER),
    ("B107", 'def login(user, password="admin"):', "", Category.HARDCODED_SECRET),
    ("B608", 'q = f"SELECT * FROM t WHERE a = {x}"', "", Category.OTHER),
    ("B105", 'return {"access_token": issue(user), "token_type": "bearer"}', "", Category.OTHER),
    ("B105", 'app.config["SECRET_KEY"] = "abc"', "", Category.HARDCODED_SECRET),
    ("B104", 'app.run(host="0.0.0.0")', "", Category.OTHER),
    ("B999", "anything", "", Category.OTHER),
])
def test_categorise(test_id: str, line: str, enclosing: str, category: Category) -> None:
    assert bandit.categorise(test_id, line, enclosing) is category


def test_missing_bandit_is_a_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bandit, "find_executable", lambda name: None)
    assert not bandit.available()
    assert bandit.version() is None
    with pytest.raises(ToolError, match="not installed"):
        bandit.run(SAMPLE)


def test_failing_bandit_is_a_tool_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bandit"
    fake.write_text("#!/bin/sh\necho 'boom: bad option' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr(bandit, "find_executable", lambda name: str(fake))
    with pytest.raises(ToolError, match="exit 2"):
        bandit.run(SAMPLE)


def test_bad_src_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="not a directory"):
        bandit.run(tmp_path / "missing")


def test_real_run_matches_recording() -> None:
    assert bandit.available()
    assert bandit.version()
    raw = bandit.run(SAMPLE, jobs=2)
    live = {(f.rule_id, f.file, f.line, f.category) for f in bandit.parse(raw, SAMPLE)}
    saved = {(f.rule_id, f.file, f.line, f.category) for f in bandit.parse(recorded("bandit_sample.json"), SAMPLE)}
    assert live == saved


def test_real_run_on_chosen_files_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bandit, "_CHUNK", 1)  # one process per file, run side by side
    raw = bandit.run(SAMPLE, files=["app.py", "web/server.js"], jobs=2)
    findings = bandit.parse(raw, SAMPLE)
    assert {f.file for f in findings} == {"app.py"}
    assert bandit.run(SAMPLE, files=[]) == {"results": [], "errors": [], "metrics": {}}


def test_shares_are_balanced_by_bytes_with_every_file_once(tmp_path: Path) -> None:
    sizes = {"a.py": 3000, "b.py": 3000, "big.py": 9000, "c.py": 2000, "d.py": 1000, "e.py": 1000}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"#" * size)
    paths = [str(tmp_path / name) for name in sizes]  # (in name order, as the map gives them)

    def weights(shares: list[list[str]]) -> list[int]:
        return [sum(sizes[Path(p).name] for p in share) for share in shares]

    shares = bandit._balanced(paths, 2)
    assert sorted(p for share in shares for p in share) == sorted(paths)  # each file exactly once
    assert all(share == sorted(share) for share in shares)
    assert [len(share) for share in shares] == [3, 3]  # no share over its count of files
    # largest first, each to the lightest share with room: big + d + e against a + b + c
    assert [[Path(p).name for p in share] for share in shares] == [["big.py", "d.py", "e.py"], ["a.py", "b.py", "c.py"]]
    assert weights(shares) == [11000, 8000]
    assert weights([paths[0::2], paths[1::2]]) == [13000, 6000]  # the old split, by name alone
    assert bandit._balanced(paths, 1) == [paths]
    assert bandit._balanced([str(tmp_path / "missing.py")], 2) == [[str(tmp_path / "missing.py")]]
