"""The security suite: every check passes on target_app and fails on legacy_app.

Failing on legacy is part of the proof: a check that also passed on the legacy app would
not show that the migration changed anything.
"""
import os
import tempfile
from pathlib import Path

import pytest

from app_harness import APP_SPECS
from checks import CHECKS

SHM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@pytest.fixture
def build(tmp_path, monkeypatch):
    def _build(name):
        db_dir = Path(tempfile.mkdtemp(dir=SHM, prefix="security-"))
        return APP_SPECS[name].build(tmp_path, monkeypatch, db_dir)
    return _build


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_target_app_passes(check, build, monkeypatch):
    CHECKS[check](build("target_app"), monkeypatch)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_legacy_app_fails(check, build, monkeypatch):
    # An exception escaping the legacy app (the test client propagates them in TESTING
    # mode; in production they are 500s) breaks the promise as surely as a wrong answer.
    with pytest.raises(Exception) as failure:
        CHECKS[check](build("legacy_app"), monkeypatch)
    assert not isinstance(failure.value, (ImportError, NameError, SyntaxError)), failure.value
