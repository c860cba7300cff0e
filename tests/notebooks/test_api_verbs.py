"""The notebooks call audit.map/plan/migrate/verify after importing audit's submodules:
the verbs must stay callable (the modules share their names)."""

from __future__ import annotations

import subprocess
import sys


def test_verbs_stay_callable_after_their_modules_are_imported():
    code = (
        "import audit, audit.plan, audit.report.tables\n"
        "from audit.plan import make_plan\n"
        "import importlib\n"
        "for name in ('migrate', 'verify'):\n"
        "    try:\n"
        "        importlib.import_module('audit.' + name)\n"
        "    except ImportError:\n"
        "        pass\n"
        "assert all(callable(getattr(audit, v)) and not isinstance(getattr(audit, v), type(audit))\n"
        "           for v in ('map', 'plan', 'migrate', 'verify', 'run')), vars(audit)\n"
        "assert make_plan.__module__ == 'audit.plan'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
