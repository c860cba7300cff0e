"""WB601 broken-project-import: an import of the project's own code that names nothing that exists."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import nodes_of


class BrokenProjectImport(Rule):
    """Flags imports of the project's own modules or names that do not exist.

    ## What it does
    Resolves relative imports (`from .x import y`, `from ..storage import f`) against the
    file's package, and absolute imports whose first segment is one of the project's own
    top-level packages or modules, and flags the import line when the module is not in the
    project, or when a name imported from it is neither defined in it nor a submodule
    (`from . import views` where `views.py` exists is fine). Modules that re-export with
    `from x import *` or define `__getattr__` are given the benefit of the doubt.

    ## Why is this bad?
    The import fails at run time: the module (and whatever imports it) crashes when it is
    first used, often far from where the code was changed, and often only in production
    paths that tests do not reach.

    ## Example
    ```python
    from .reports_export import build_csv  # reports_export.py was renamed to exports.py
    ```

    ## Use instead
    ```python
    from .exports import build_csv
    ```
    """

    id = "WB601"
    name = "broken-project-import"
    category = Category.BROKEN_IMPORT
    severity = Severity.MEDIUM
    confidence = Severity.HIGH
    cwe = None
    fixed_by = None

    VALID = (
        Example(
            "from . import models\n"
            "from .models import User\n"
            "from app import models as m\n"
            "import app.models\n"
            "from flask import Flask\n",
            files=(("app/models.py", "class User:\n    pass\n"),),
        ),
        Example(
            "from fastapi import APIRouter\n"
            "from ..core.settings import settings\n"
            "from ..core import settings as settings_module\n"
            "router = APIRouter()\n",
            path="app/api/items.py",
            files=(("app/core/settings.py", "settings = object()\n"),),
        ),
    )
    INVALID = (
        Example(
            "from .models import User, Order\n"
            "from .reports_export import build_csv\n"
            "import app.missing\n"
            "from app.models import Ghost\n",
            lines=(1, 2, 3, 4),
            files=(("app/models.py", "class User:\n    pass\n"),),
        ),
        Example(
            "from fastapi import APIRouter\n"
            "from ..storage import get_archived_posts\n"
            "router = APIRouter()\n",
            path="app/api/items.py",
            files=(("app/storage.py", "def get_posts():\n    return []\n"),),
            lines=(2,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        facts = ctx.project
        if not facts.modules or ctx.in_test_file:
            return
        is_package = ctx.file.endswith("__init__.py")
        for node in nodes_of(ctx.tree, ast.ImportFrom, ast.Import):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    target = _resolve(ctx.module, is_package, node.level, node.module)
                    if target is None:
                        yield self.finding(ctx, node.lineno, "relative import goes above the project's top package")
                        continue
                elif node.module and node.module.split(".")[0] in facts.packages:
                    target = node.module
                else:
                    continue
                problem = _missing(target, [a.name for a in node.names], facts)
                if problem:
                    yield self.finding(ctx, node.lineno, problem)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in facts.packages and alias.name not in facts.modules:
                        yield self.finding(ctx, node.lineno, f"module {alias.name} does not exist in the project")
                        break


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    parts = module.split(".") if module else []
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base):
        return None
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def _missing(target: str, names: list[str], facts) -> str | None:
    if target and target not in facts.modules:
        # A target outside the mapped tree (SRC is a sub-folder of the real package) cannot be judged.
        if target.split(".")[0] not in facts.packages:
            return None
        return f"module {target} does not exist in the project"
    defined = facts.module_names.get(target)
    if defined is None or "*" in defined or "__getattr__" in defined:
        return None
    absent = [n for n in names if n != "*" and n not in defined and f"{target}.{n}" not in facts.modules]
    if absent:
        return f"{', '.join(absent)} not defined in {target}"
    return None
