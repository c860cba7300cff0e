"""Audit and migration workbench: Map -> Breakdown -> Mitigate -> Deploy for legacy web backends."""

from .api import map, migrate, plan, run, verify
from .model import Category, Finding, Location, Route, Severity

__all__ = sorted(["Category", "Finding", "Location", "Route", "Severity", "map", "migrate", "plan", "run", "verify"])
__version__ = "0.1.0"
