"""The map frees its analysis by reference counting: it keeps the cyclic garbage collector off
while it works (a full pass would walk every node of the parsed trees), so any reference cycle
reaching the project's facts holds all of them until the next collection after the map (a
quarter of a second on a 100,000-line tree, and their memory until then)."""

from __future__ import annotations

import gc
from pathlib import Path

from audit.mapping import run_map

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"FileFacts", "FunctionFacts", "ClassFacts", "Project", "Endpoint", "Module", "FunctionDef"}


def cyclic_garbage_after_map(src: Path) -> set[str]:
    gc.collect()
    gc.disable()
    try:
        result = run_map(src, bandit=False, semgrep=False, cache=False, jobs=1)
        assert result.route_list  # (the map did its work)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_a_flask_map_leaves_no_cycle_holding_facts_or_trees() -> None:
    assert not cyclic_garbage_after_map(ROOT / "legacy_app") & HEAVY


def test_a_fastapi_map_leaves_no_cycle_holding_facts_or_trees() -> None:
    fastapi_apps = [p for p in (ROOT / "tests" / "fixtures").iterdir() if p.is_dir() and "fastapi" in p.name]
    assert fastapi_apps
    assert not cyclic_garbage_after_map(fastapi_apps[0]) & HEAVY
