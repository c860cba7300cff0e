"""Write the four stage notebooks (01_map ... 04_deploy) from the cell lists below.

The notebooks are the source of truth for readers; this script is how they are kept
tidy: run ``python notebooks/generate.py`` after editing a cell here, and commit the
notebooks without outputs. Every code cell is a thin call into the ``audit`` package.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import audit
from audit.report import build, charts, tables, views
from audit.report.layout import RunLayout, resolve

layout = RunLayout(resolve(root, out))"""

MAP = [
    new_markdown_cell("""\
# 1. Map: what the legacy backend serves, and what is wrong with it

This notebook audits the legacy code **without running it**: it lists every route the
app serves (method, path, handler, whether it needs a login, validates its input, is
rate limited) and every security or quality problem found by the workbench's own rules,
bandit and semgrep. Each problem belongs to one category of the contract, named here
in plain words.

The results are written to `map/` in the run's output folder (`routes.csv`,
`findings.csv`, `findings.sarif`, `summary.json`); the next notebooks read them from
there. Change the parameters below to audit another codebase."""),
    new_code_cell("""\
root = ".."  # the repository root; relative paths below are resolved against it
legacy = "legacy_app"  # the codebase to audit (read only: nothing in it is imported or run)
out = "reports"  # the run's output folder; this stage writes out/map/
config = None  # a workbench.toml (public/sensitive routes, rules, excludes), or None
jobs = None  # worker processes (None: all cores)
bandit = True  # also run bandit
semgrep = True  # also run semgrep with the workbench's rules
min_severity = "low"  # leave out findings below this severity in the tables""", metadata={"tags": ["parameters"]}),
    new_code_cell(SETUP + """
result = audit.map(resolve(root, legacy), out=layout.map_dir, config=resolve(root, config), jobs=jobs,
                   bandit=bandit, semgrep=semgrep, progress=False)
views.note(result.describe())"""),
    new_markdown_cell("""\
## Findings by category

How many problems of each kind, and how severe. The same numbers feed the
before/after comparison at the end of the pipeline."""),
    new_code_cell("""\
categories = tables.by_category(result, min_severity)
views.table(categories, max_rows=None)"""),
    new_code_cell("""\
charts.horizontal_bars(list(categories["what it means"]), list(categories["total"]), "Findings per category")"""),
    new_markdown_cell("""\
## The riskiest routes first

Each finding weighs its severity times how much its category matters to an attacker;
a route's risk is the sum over the findings inside its handler."""),
    new_code_cell("""\
from audit.plan import risk_by_module, risk_by_route

views.table(risk_by_route(result, min_severity), max_rows=25)"""),
    new_markdown_cell("""\
## Findings by module

Where the problems are, file by file. Files without routes (configuration, the auth
helper, the app factory, the storage layer) form the foundation of the migration plan."""),
    new_code_cell("""views.table(tables.by_module(result, min_severity), max_rows=None)"""),
    new_code_cell("""\
modules = risk_by_module(result, min_severity)
charts.horizontal_bars(list(modules["module"].head(15)), list(modules["risk"].head(15)), "Risk per module", "risk score")"""),
    new_markdown_cell("""\
## Route inventory

Every (method, path) the app serves, where its handler lives, and its protections."""),
    new_code_cell("""views.table(tables.inventory(result), max_rows=None)"""),
    new_markdown_cell("""\
## Data access

Does each route go through the storage layer (one place to secure and test) or query
the database directly (every such handler must be reviewed on its own)?"""),
    new_code_cell("""\
access = tables.data_access(result)
views.table(access, max_rows=None)"""),
    new_code_cell("""\
charts.horizontal_bars(["storage layer", "direct queries", "no data access"],
                       [int(access["storage"].sum()), int(access["direct"].sum()), int(access["none"].sum())],
                       "How routes reach the data", "routes")"""),
    new_markdown_cell("""## Every finding"""),
    new_code_cell("""views.table(tables.findings_table(result, min_severity), max_rows=300)"""),
]

BREAKDOWN = [
    new_markdown_cell("""\
# 2. Breakdown: the migration as independent batches

The map's findings are grouped into **batches** that can be applied and verified one
after the other. Batch 0, the *foundation*, holds the files that define no route
(configuration, the auth helper, the app factory, storage): every other batch depends
on it. The route modules follow, riskiest first, `batch_size` modules per batch.

For each batch: the routes it secures, the findings its codemods remove, the
codemods it needs, and what still needs a person. The plan is written to `plan.json`."""),
    new_code_cell("""\
root = ".."  # the repository root; relative paths below are resolved against it
out = "reports"  # the run's output folder: reads out/map/, writes out/plan.json
batch_size = 4  # route modules per batch
min_severity = "low"  # leave findings below this severity out of the plan""", metadata={"tags": ["parameters"]}),
    new_code_cell(SETUP + """
plan = audit.plan(layout.map_dir, batch_size=batch_size, min_severity=min_severity)
plan.to_json(layout.plan_json)
views.note(plan.describe())"""),
    new_markdown_cell("""## The batches"""),
    new_code_cell("""views.table(plan.to_frame(), max_rows=None)"""),
    new_code_cell("""charts.plan_bars(plan.to_frame())"""),
    new_markdown_cell("""## Which batch secures which route"""),
    new_code_cell("""views.table(plan.routes_frame(), max_rows=None)"""),
    new_markdown_cell("""## Codemods the plan needs"""),
    new_code_cell("""views.items(plan.codemods)"""),
]

MITIGATE = [
    new_markdown_cell("""\
# 3. Mitigate: rewrite the code, batch by batch

The codemods rewrite a **copy** of the legacy app into the target folder (the legacy
tree is never modified). By default one migration applies the selected batches and its
changes are shown batch by batch; with `by_batch = True` each batch is applied on top
of the previous ones, so the target after each step can be verified on its own. When
every batch is applied the result is the same as `workbench migrate`. Below: per
batch, the diff of each file it changed, and what the migration left for a person
(with the reason).

What was applied is recorded in `mitigate.json`; the target's own `MIGRATION.json`
lists per file the codemods applied and anything skipped."""),
    new_code_cell("""\
root = ".."  # the repository root; relative paths below are resolved against it
legacy = "legacy_app"  # the codebase to migrate (read only)
target = "reports/target_app"  # where the migrated copy is written
out = "reports"  # the run's output folder: reads out/plan.json, writes out/mitigate.json
batches = "all"  # "all", a batch id, or a list of batch ids (their dependencies are added)
by_batch = False  # True: apply and check each batch on its own (one migration per batch, slower)
only = None  # a list of codemod names to apply (None: all)
skip = None  # a list of codemod names not to apply
jobs = None  # worker processes (None: all cores)
config = None  # a workbench.toml, or None""", metadata={"tags": ["parameters"]}),
    new_code_cell(SETUP + """
from audit.plan import apply_plan, load_plan

plan = load_plan(layout.plan_json)
mitigation = apply_plan(plan, resolve(root, legacy), resolve(root, target), batches=batches, by_batch=by_batch,
                        only=only, skip=skip, jobs=jobs, config=resolve(root, config))
mitigation.to_json(layout.mitigate_json)
views.table(mitigation.to_frame(), max_rows=None)"""),
    new_markdown_cell("""## What each batch changed"""),
    new_code_cell("""views.batch_diffs(mitigation.outcomes)"""),
    new_markdown_cell("""\
## What was left for a human

Anything a codemod could not rewrite safely, with the reason the migration gave."""),
    new_code_cell("""views.table(mitigation.left_for_human(), max_rows=None)"""),
]

DEPLOY = [
    new_markdown_cell("""\
# 4. Deploy: check the migrated app, before and after

The migrated app is audited again with the same rules, then **built and probed**: every
route is called in-process (no network, a throwaway database filled with the app's own
demo data) the way clients and attackers would call it, and each answer is compared with
what the audit expects. The legacy app gets the same probes, so the two can be compared
check by check. Last comes the **integrity gate**: the files the app needs, its imports,
and its documents, which must all hang together before anything is deployed."""),
    new_code_cell("""\
root = ".."  # the repository root; relative paths below are resolved against it
legacy = "legacy_app"  # the legacy codebase (its map is read from out/map/)
target = "reports/target_app"  # the migrated app to check
out = "reports"  # the run's output folder: writes out/target_map/, out/verify/ and out/verify_legacy/
factory = None  # "module:function" building the app, or None to find it
config = None  # a workbench.toml, or None
jobs = None  # worker processes (None: all cores)
bandit = True
semgrep = True
min_severity = "low"
verify_legacy = True  # also probe the legacy app, for the side-by-side comparison
repeats = 20  # calls per route for the response-time figures""", metadata={"tags": ["parameters"]}),
    new_code_cell(SETUP + """
from audit.report import verification as checks

before = build.load_result(layout.map_dir)
after = audit.map(resolve(root, target), out=layout.target_map_dir, config=resolve(root, config), jobs=jobs,
                  bandit=bandit, semgrep=semgrep, progress=False)
views.note(after.describe())"""),
    new_markdown_cell("""\
## The running apps, probed: legacy and migrated side by side

For every route: a request without a token, with a forged one and with an expired one
(all must be refused unless the route is public); an empty and a wrongly typed request
(must be refused with a clear error); a correct request (must succeed); every answer
must carry the security headers; sensitive routes must slow down repeated attempts."""),
    new_code_cell("""\
verification = audit.verify(resolve(root, target), factory=factory, out=layout.verify_dir,
                            expected=layout.target_map_dir, config=resolve(root, config),
                            legacy=resolve(root, legacy), repeats=repeats)
build.save_verification(verification, layout.verify_json)
legacy_verification = audit.verify(
    resolve(root, legacy), factory=factory, out=layout.legacy_verify_dir, expected=layout.map_dir,
    config=resolve(root, config), repeats=repeats, integrity=False) if verify_legacy else None
build.save_verification(legacy_verification, layout.legacy_verify_json)
views.note(verification.describe(), "ok" if verification.ok else "error")"""),
    new_code_cell("""views.table(checks.checks_side_by_side(legacy_verification, verification), max_rows=None)"""),
    new_code_cell("""checks.checks_chart(legacy_verification, verification)"""),
    new_markdown_cell("""\
## What still fails in the migrated app

Each route that fails a check, and why, in the probe's words. Below it, answers that
are not failures but that a person should look at, each with its explanation."""),
    new_code_cell("""views.table(checks.failing_routes(verification), max_rows=None)"""),
    new_code_cell("""views.table(checks.warnings_table(verification), max_rows=None)"""),
    new_markdown_cell("""\
## Response times

Each route was called repeatedly in-process; the chart shows the slowest ones (95th and
50th percentile) against the budget."""),
    new_code_cell("""checks.latency_chart(verification)"""),
    new_markdown_cell("""\
## Every route, every answer

The status code each probe got (`routes_verified.csv` in `verify/` has what was sent,
what came back and a pass/fail column per check)."""),
    new_code_cell("""views.table(checks.route_answers(verification), max_rows=None)"""),
    new_markdown_cell("""\
## The integrity gate: what needs a human before deploying

Separate from the probes above (the same checks as `workbench integrity`, which can run
as a pre-commit hook): critical files present and not empty, every import of the
project's own code resolves, every file compiles, documents name files that exist,
nothing the legacy app had is lost. These problems need a person: a codemod cannot
guess the code that is missing."""),
    new_code_cell("""\
views.note(verification.integrity.describe(), "ok" if verification.integrity.ok else "warning")
views.table(checks.integrity_table(verification.integrity), max_rows=None)"""),
    new_markdown_cell("""## Findings before and after"""),
    new_code_cell("""\
compared = tables.compare_categories(before, after, min_severity)
views.figures(zip(compared["what it means"], compared["before"], compared["after"]))"""),
    new_code_cell("""charts.before_after(compared)"""),
    new_markdown_cell("""## Route coverage before and after"""),
    new_code_cell("""\
coverage = tables.compare_coverage(before, after)
views.table(coverage, max_rows=None)"""),
    new_code_cell("""charts.coverage_bars(coverage)"""),
    new_markdown_cell("""## What still needs a human

Findings the audit still reports in the migrated app."""),
    new_code_cell("""views.table(tables.remaining(after, min_severity), max_rows=None)"""),
]

NOTEBOOKS = {"01_map": MAP, "02_breakdown": BREAKDOWN, "03_mitigate": MITIGATE, "04_deploy": DEPLOY}


def build_notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for n, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{n:02d}"  # stable ids keep diffs of regenerated notebooks quiet
    return nb


def main() -> None:
    for stem, cells in NOTEBOOKS.items():
        nb = build_notebook(cells)
        nbformat.validate(nb)
        nbformat.write(nb, str(HERE / f"{stem}.ipynb"))
        print(f"wrote notebooks/{stem}.ipynb ({len(cells)} cells)")


if __name__ == "__main__":
    main()
