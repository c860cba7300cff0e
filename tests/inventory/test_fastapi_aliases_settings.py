"""FastAPI in the full-stack template's style: dependency aliases (``CurrentUserDep =
Annotated[User, Depends(get_current_user)]``) imported from another module, and router
prefixes read from a settings object (``prefix=settings.API_V1_STR``)."""

from __future__ import annotations

import pytest

from url_maps import fastapi_paths, inventory_set, routes_by_key

_DEPS = """
    from typing import Annotated

    import jwt
    from fastapi import Depends, HTTPException
    from fastapi.security import OAuth2PasswordBearer

    reusable_oauth2 = OAuth2PasswordBearer(tokenUrl="/login/access-token")


    def get_db():
        yield {"users": {1: "ann"}}


    SessionDep = Annotated[dict, Depends(get_db)]
    TokenDep = Annotated[str, Depends(reusable_oauth2)]


    def get_current_user(db: SessionDep, token: TokenDep) -> str:
        try:
            payload = jwt.decode(token, "k", algorithms=["HS256"])
        except jwt.PyJWTError:
            raise HTTPException(status_code=403, detail="Could not validate credentials")
        return db["users"][int(payload["sub"])]


    def get_shop_user(db: SessionDep) -> str:
        # refuses, but never reads a credential: not authentication
        if not db:
            raise HTTPException(status_code=403, detail="closed")
        return "guest"


    CurrentUserDep = Annotated[str, Depends(get_current_user)]
    ShopUserDep = Annotated[str, Depends(get_shop_user)]
"""


def test_dependency_aliases_resolve_through_imports(app_tree):
    src, load = app_tree({
        "__init__.py": "",
        "api/__init__.py": "",
        "api/deps.py": _DEPS,
        "api/routes/__init__.py": "",
        "api/routes/items.py": """
            from fastapi import APIRouter
            from ..deps import CurrentUserDep, SessionDep, ShopUserDep

            router = APIRouter(prefix="/items")

            @router.get("/mine")
            def mine(current_user: CurrentUserDep, db: SessionDep):
                return {"user": current_user}

            @router.get("/all")
            def everything(db: SessionDep, limit: int = 10):
                return {}

            @router.get("/shop")
            def shop(user: ShopUserDep):
                return {}
        """,
        "main.py": """
            from fastapi import FastAPI
            from .api.routes import items

            app = FastAPI()
            app.include_router(items.router)
        """,
    })
    app = load("main:app")
    assert {(m, p) for m, p, _ in inventory_set(src)} == fastapi_paths(app)
    routes = routes_by_key(src)
    mine = routes[("GET", "/items/mine")]
    assert mine.auth is True
    assert f"{src.name}.api.deps.get_current_user" in mine.guards
    assert routes[("GET", "/items/all")].auth is False
    # the alias is a dependency, not request data; the typed query parameter still is
    assert mine.reads == ()
    assert routes[("GET", "/items/all")].reads == ("args:limit",)
    # an alias whose dependency refuses but reads no credential is no auth
    assert routes[("GET", "/items/shop")].auth is False


@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_settings_attribute_and_constant_prefixes(app_tree):
    src, load = app_tree({
        "__init__.py": "",
        "core/__init__.py": "",
        "core/config.py": """
            from pydantic_settings import BaseSettings

            ADMIN_PREFIX = "/admin"


            class Settings(BaseSettings):
                API_V1_STR: str = "/api/v1"
                PROJECT_NAME: str = "demo"


            settings = Settings()
            other = Settings(API_V1_STR="/api/v2")
        """,
        "routes.py": """
            from fastapi import APIRouter
            router = APIRouter(prefix="/notes")

            @router.get("/")
            def list_notes():
                return []

            @router.post("/{note_id}")
            def edit(note_id: int):
                return {}
        """,
        "main.py": """
            from fastapi import FastAPI
            from .core import config
            from .core.config import settings, other, ADMIN_PREFIX
            from .routes import router

            app = FastAPI(title=settings.PROJECT_NAME)
            app.include_router(router, prefix=settings.API_V1_STR)
            app.include_router(router, prefix=other.API_V1_STR)
            app.include_router(router, prefix=ADMIN_PREFIX)
            app.include_router(router, prefix=config.ADMIN_PREFIX)
        """,
    })
    app = load("main:app")
    assert {(m, p) for m, p, _ in inventory_set(src)} == fastapi_paths(app)
    paths = {p for _, p, _ in inventory_set(src)}
    assert {"/api/v1/notes/", "/api/v2/notes/{note_id}", "/admin/notes/"} <= paths
