"""Fill the mechanical parts of a holdout app's EXPECTED.yml from its source and its live routes.

    .venv/bin/python benchmarks/holdout/build_expected.py flask_shop

The labels are hand-written: each route's flags (keyed by method and path) and each
flaw's category, file and snippet. This script only
- checks that the hand-listed routes are exactly what the built app serves (its url map
  or FastAPI route table, via live_routes.py) and fills their file, def line and handler;
- sets each flaw's line to the one line of its file containing its snippet (a snippet
  found on no line or on several is an error: make it more specific) and replaces the
  snippet by that whole stripped line.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

from live_routes import HOLDOUT, served_routes

FLAGS = ("auth", "validated", "rate_limited", "public")


def _flow(row: dict) -> str:
    return yaml.safe_dump(row, default_flow_style=True, sort_keys=False, width=10_000).strip()


def build(name: str) -> None:
    app_dir = HOLDOUT / name
    path = app_dir / "EXPECTED.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    live = {(r["method"], r["path"]): r for r in served_routes(name)}
    labelled = {(r["method"], r["path"]): r for r in data["routes"]}
    if set(live) != set(labelled):
        raise SystemExit(f"{name}: served but unlabelled {sorted(set(live) - set(labelled))}; "
                         f"labelled but not served {sorted(set(labelled) - set(live))}")
    routes = []
    for key, row in labelled.items():
        missing = [f for f in FLAGS if f not in row]
        if missing:
            raise SystemExit(f"{key}: flags {missing} not labelled")
        routes.append({**live[key], **{f: bool(row[f]) for f in FLAGS}})
    routes.sort(key=lambda r: (r["file"], r["line"], r["method"], r["path"]))
    flaws = []
    for flaw in data["flaws"]:
        lines = (app_dir / flaw["file"]).read_text(encoding="utf-8").splitlines()
        hits = [i for i, text in enumerate(lines, 1) if flaw["snippet"] in text]
        if len(hits) != 1:
            raise SystemExit(f"snippet found on lines {hits}, need exactly one: {flaw}")
        flaws.append({"category": flaw["category"], "file": flaw["file"], "line": hits[0],
                      "snippet": lines[hits[0] - 1].strip()})
    flaws.sort(key=lambda f: (f["file"], f["line"], f["category"]))
    header = "".join(line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    rest = {k: v for k, v in data.items() if k not in ("routes", "flaws", "notes")}
    body = yaml.safe_dump(rest, sort_keys=False)
    body += f"routes:  # {len(routes)}\n" + "".join(f"  - {_flow(r)}\n" for r in routes)
    body += f"flaws:  # {len(flaws)}\n" + "".join(f"  - {_flow(f)}\n" for f in flaws)
    if data.get("notes"):
        body += yaml.safe_dump({"notes": data["notes"]}, sort_keys=False, width=110)
    path.write_text(header + body, encoding="utf-8")
    print(f"{name}: {len(routes)} routes, {len(flaws)} flaws written to {path}")


if __name__ == "__main__":
    build(sys.argv[1])
