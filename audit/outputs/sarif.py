"""findings.sarif: SARIF 2.1.0, one run per tool that contributed (workbench, bandit, semgrep).

A finding several tools reported (merged) appears once, in the run of its primary source
(the first of ``finding.source``), with the other tools' ids in its properties.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..model import Finding

__all__ = ["build_sarif", "SARIF_SCHEMA"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFO = {
    "workbench": "https://example.invalid/audit-workbench",  # informationUri must be a URI; the project has no site
    "bandit": "https://github.com/PyCQA/bandit",
    "semgrep": "https://semgrep.dev",
}


def build_sarif(findings: Iterable[Finding], tools: dict[str, dict[str, Any]], rule_docs: dict[str, dict[str, str]] | None = None) -> dict:
    """The SARIF log of ``findings``; ``tools`` maps tool name -> {"version": ...};
    ``rule_docs`` maps rule id -> {"name", "description"} for the workbench's own rules."""
    rule_docs = rule_docs or {}
    by_tool: dict[str, list[Finding]] = {}
    for f in findings:
        by_tool.setdefault(f.source[0] if f.source else "workbench", []).append(f)
    runs = []
    for tool in sorted(by_tool, key=lambda t: (t != "workbench", t)):
        results, rules, index = [], [], {}
        for f in by_tool[tool]:
            if f.rule_id not in index:
                index[f.rule_id] = len(rules)
                doc = rule_docs.get(f.rule_id, {})
                rule: dict[str, Any] = {"id": f.rule_id}
                if doc.get("name"):
                    rule["name"] = doc["name"]
                rule["shortDescription"] = {"text": doc.get("description") or f"{f.category.value}: {f.rule_id}"}
                rule["properties"] = {"category": f.category.value}
                if f.cwe:
                    rule["properties"]["cwe"] = f"CWE-{f.cwe}"
                rules.append(rule)
            result: dict[str, Any] = {
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id],
                "level": f.severity.sarif_level,
                "message": {"text": f.message or f.rule_id},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file, "uriBaseId": "SRCROOT"},
                        "region": {"startLine": max(1, f.line),
                                   **({"endLine": f.end_line} if f.end_line and f.end_line >= f.line else {})},
                    }
                }],
                "partialFingerprints": {"workbench/v1": f.fingerprint},
                "properties": {
                    "category": f.category.value,
                    "severity": f.severity.value,
                    "confidence": f.confidence.value,
                    "sources": list(f.source),
                    "toolIds": list(f.tool_ids),
                    **({"route": f.route} if f.route else {}),
                },
            }
            if f.suppressed:
                result["suppressions"] = [{"kind": "inSource", "justification": "workbench: ignore comment"}]
            results.append(result)
        driver: dict[str, Any] = {"name": tool, "informationUri": _INFO.get(tool, _INFO["workbench"]), "rules": rules}
        version = (tools.get(tool) or {}).get("version")
        if version:
            driver["version"] = str(version)
        runs.append({
            "tool": {"driver": driver},
            "originalUriBaseIds": {"SRCROOT": {"description": {"text": "The mapped source folder (SRC)."}}},
            "results": results,
        })
    if not runs:  # no findings at all: still one (empty) run of the workbench
        runs.append({"tool": {"driver": {"name": "workbench", "informationUri": _INFO["workbench"], "rules": []}},
                     "results": []})
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}
