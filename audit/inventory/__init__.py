"""Route inventory: per-file facts (gathered in workers) resolved centrally into routes.

``gather_file_facts`` (:mod:`.facts`) runs once per file on its ``ast`` tree;
:func:`build_inventory` indexes all facts in a :class:`~.project.Project`, runs the
framework gatherers (:mod:`.flask`, :mod:`.fastapi`), judges the route flags
(:mod:`.flags`) and derives the :class:`~audit.rules.ProjectFacts` the rules share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..config import Config
from ..model import Route
from ..rules import ProjectFacts
from .facts import FileFacts, gather_file_facts
from .fastapi import gather_fastapi
from .flags import assess, has_default_limits
from .flask import gather_flask
from .project import Project

__all__ = ["FileFacts", "Inventory", "Project", "build_inventory", "gather_file_facts", "inventory_of"]


@dataclass
class Inventory:
    routes: list[Route]
    project_facts: ProjectFacts
    project: Project


def build_inventory(facts: Iterable[FileFacts], config: Config, src_name: str = "") -> Inventory:
    """Resolve every module's facts into the project's routes and the facts rules share."""
    project = Project(facts)
    default_limited = has_default_limits(project)
    endpoints = gather_flask(project, default_limited) + gather_fastapi(project, default_limited)
    routes = assess(project, endpoints, config)
    # Judge every function that looks like a guard, so rules see the whole list of auth guards.
    for qual, (f, fn) in project.functions.items():
        if fn.rejects or fn.reads_credential or fn.verifies:
            project.verdict(qual)
    modules = frozenset(project.files)
    # the names a module defines, and its submodules (``a.b`` for every ``a.b.c...``)
    submodules: dict[str, set[str]] = {}
    for other in modules:
        parts = other.split(".")
        for i in range(1, len(parts)):
            submodules.setdefault(".".join(parts[:i]), set()).add(parts[i])
    module_names = {m: frozenset(f.defined) | submodules.get(m, set()) for m, f in project.files.items()}
    extra = _rule_project_facts(project.files.values())
    project_facts = ProjectFacts(
        **extra,
        packages=frozenset(m.split(".", 1)[0] for m in modules),
        modules=modules,
        module_names=module_names,
        src_name=src_name,
        public_patterns=config.public,
        sensitive_patterns=config.sensitive,
        auth_guards=frozenset(q for q, v in project._verdicts.items() if v.auth),
        security_headers_set=any(f.sets_security_headers for f in project.files.values()),
    )
    return Inventory(routes, project_facts, project)


def _rule_project_facts(files) -> dict:
    """The rules' project-wide inputs, summed over the per-file ``rule_facts`` (only the fields
    this ProjectFacts has: the rules package may not define them all)."""
    from collections import Counter
    from dataclasses import fields

    known = {f.name for f in fields(ProjectFacts)}
    shapes: Counter = Counter()
    models: set = set()
    fed: set = set()
    returning: set = set()
    upload_limit = False
    for f in files:
        rf = f.rule_facts or {}
        shapes.update(rf.get("error_shapes") or {})
        models.update(rf.get("password_rule_models") or ())
        fed.update(rf.get("request_fed_params") or ())
        returning.update(rf.get("request_returning") or ())
        upload_limit = upload_limit or bool(rf.get("upload_size_limit"))
    extra = {"error_shapes": tuple(sorted(shapes.items())), "password_rule_models": frozenset(models),
             "request_fed_params": frozenset(fed), "request_returning": frozenset(returning),
             "upload_size_limit_set": upload_limit}
    return {k: v for k, v in extra.items() if k in known}


def inventory_of(src, config: Config | None = None) -> Inventory:
    """The inventory of the folder ``src``, computed in this process without cache or rules
    (for tests and notebooks that only need routes)."""
    import ast
    import warnings
    from pathlib import Path

    from ..discover import discover, module_names, read_source

    src = Path(src)
    config = config or Config()
    found = discover(src, config)
    src_name = src.resolve().name if (src / "__init__.py").exists() else ""
    names = module_names([f.rel for f in found.python], src_name)
    facts = []
    for f in found.python:
        text = read_source(f.path, f.rel).text
        if text is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        facts.append(gather_file_facts(tree, f.rel, names[f.rel], text))
    return build_inventory(facts, config, src_name)
