"""Fixtures for the user-journey tests: which app is under test, and how clients authenticate.

The apps come from ``WORKBENCH_APP_UNDER_TEST`` (comma-separated names from
``app_harness.APP_SPECS``; default ``legacy_app``), e.g.::

    WORKBENCH_APP_UNDER_TEST=legacy_app,target_app .venv/bin/pytest tests/legacy
"""
import os
import sys
import tempfile
from pathlib import Path

import pytest

# the harness and journeys are plain modules next to this file (also under --import-mode=importlib)
sys.path.insert(0, str(Path(__file__).parent))

from app_harness import APP_SPECS, AUTH_STRATEGIES  # noqa: E402


def _apps_under_test():
    names = [n.strip() for n in os.getenv("WORKBENCH_APP_UNDER_TEST", "legacy_app").split(",") if n.strip()]
    unknown = sorted(set(names) - set(APP_SPECS))
    if unknown:
        raise pytest.UsageError(f"WORKBENCH_APP_UNDER_TEST names unknown apps {unknown}; known: {sorted(APP_SPECS)}")
    return names


@pytest.fixture(params=_apps_under_test())
def app_spec(request):
    return APP_SPECS[request.param]


# Creating the schema is a dozen fsync'd DDL statements: on tmpfs a fresh database
# costs milliseconds instead of half a second.
SHM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@pytest.fixture
def app_under_test(app_spec, tmp_path, monkeypatch):
    """A fresh app over its own temporary SQLite database, seeded with the demo data."""
    with tempfile.TemporaryDirectory(dir=SHM, prefix="journeys-") as db_dir:
        yield app_spec.build(tmp_path, monkeypatch, Path(db_dir))


@pytest.fixture(params=sorted(AUTH_STRATEGIES))
def auth(request):
    return AUTH_STRATEGIES[request.param]
