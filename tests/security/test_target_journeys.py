"""The legacy user journeys (tests/legacy/journeys.py) against target_app, with bearer tokens
and through the login route: same status, same JSON as the legacy app gives."""
import os
import tempfile
from pathlib import Path

import pytest

from app_harness import APP_SPECS, AUTH_STRATEGIES
from journeys import JOURNEYS

SHM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@pytest.mark.slow
@pytest.mark.parametrize("auth", sorted(AUTH_STRATEGIES))
@pytest.mark.parametrize("journey", sorted(JOURNEYS))
def test_journey_on_target_app(journey, auth, tmp_path, monkeypatch):
    with tempfile.TemporaryDirectory(dir=SHM, prefix="target-journeys-") as db_dir:
        aut = APP_SPECS["target_app"].build(tmp_path, monkeypatch, Path(db_dir))
        JOURNEYS[journey](aut, AUTH_STRATEGIES[auth])
