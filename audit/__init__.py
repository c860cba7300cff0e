"""Audit and migration workbench: Map -> Breakdown -> Mitigate -> Deploy for legacy web backends."""

from .api import integrity, map, migrate, plan, run, verify
from .model import Category, Finding, Location, Route, Severity

__all__ = sorted(["Category", "Finding", "Location", "Route", "Severity", "integrity", "map", "migrate", "plan", "run",
                  "verify"])
__version__ = "0.1.0"


# The API verbs share their names with the modules that implement them (audit/plan.py,
# audit/migrate.py, audit/verify.py). Importing such a module would normally rebind
# ``audit.plan`` to the module, so a second ``audit.plan(...)`` in a notebook would fail
# with "'module' object is not callable". The package keeps the functions; the modules
# stay importable by their full names (``from audit.plan import make_plan``).
import sys as _sys
import types as _types


class _Package(_types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        if name in {"integrity", "map", "migrate", "plan", "run", "verify"} and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
