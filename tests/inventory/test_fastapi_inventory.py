"""The FastAPI gatherer against real FastAPI apps built in tmp_path."""

from __future__ import annotations

import pytest

from url_maps import fastapi_paths, inventory_set, routes_by_key


@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_include_router_chains_and_prefixes(app_tree):
    src, load = app_tree({
        "__init__.py": "",
        "main.py": """
            from fastapi import FastAPI
            from .routers import parent, child
            from .routers.items import router as items_router

            app = FastAPI()
            app.include_router(parent.router, prefix="/api")
            app.include_router(items_router)
            app.include_router(child.router)

            @app.api_route("/multi", methods=["GET", "POST", "HEAD"])
            def multi():
                return {}
        """,
        "routers/__init__.py": "",
        "routers/child.py": """
            from fastapi import APIRouter
            router = APIRouter(prefix="/b")

            @router.get("/x")
            def x():
                return {}

            @router.get("")
            def y():
                return {}
        """,
        "routers/parent.py": """
            from fastapi import APIRouter
            from . import child
            router = APIRouter(prefix="/a")
            router.include_router(child.router, prefix="/c")

            @router.put("/p/{pid}")
            def p(pid: int):
                return {}
        """,
        "routers/items.py": """
            from fastapi import APIRouter
            router = APIRouter(prefix="/items", tags=["items"])

            @router.delete("/{item_id}")
            async def delete_item(item_id: int):
                return {}

            def listing():
                return []

            router.add_api_route("/", listing, methods=["GET"])
        """,
    })
    app = load("main:app")
    assert {(m, p) for m, p, _ in inventory_set(src)} == fastapi_paths(app)
    routes = routes_by_key(src)
    assert routes[("GET", "/api/a/c/b/x")].handler == "x"
    assert routes[("GET", "/items/")].handler == "listing"
    assert routes[("DELETE", "/items/{item_id}")].framework == "fastapi"


def test_dependencies_at_every_level_give_auth(app_tree):
    security = """
        import jwt
        from fastapi import Depends, HTTPException, status
        from fastapi.security import OAuth2PasswordBearer

        oauth2 = OAuth2PasswordBearer(tokenUrl="token")

        def get_current_user(token: str = Depends(oauth2)):
            try:
                payload = jwt.decode(token, "k", algorithms=["HS256"])
            except jwt.PyJWTError:
                raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="bad token")
            return payload["sub"]
    """
    src, load = app_tree({
        "__init__.py": "",
        "security.py": security,
        "main.py": """
            from typing import Annotated
            from fastapi import APIRouter, Depends, FastAPI
            from .security import get_current_user

            guarded = APIRouter(prefix="/guarded", dependencies=[Depends(get_current_user)])
            open_router = APIRouter(prefix="/open")
            included = APIRouter()

            @guarded.get("/a")
            def a():
                return {}

            @open_router.get("/b", dependencies=[Depends(get_current_user)])
            def b():
                return {}

            @open_router.get("/c")
            def c(user: str = Depends(get_current_user)):
                return {}

            @open_router.get("/d")
            def d(user: Annotated[str, Depends(get_current_user)]):
                return {}

            @open_router.get("/e")
            def e():
                return {}

            @included.get("/f")
            def f():
                return {}

            app = FastAPI()
            app.include_router(guarded)
            app.include_router(open_router)
            app.include_router(included, prefix="/inc", dependencies=[Depends(get_current_user)])
        """,
    })
    load("main:app")  # the app must really build
    routes = routes_by_key(src)
    auth = {path: r.auth for (method, path), r in routes.items()}
    assert auth == {"/guarded/a": True, "/open/b": True, "/open/c": True, "/open/d": True, "/open/e": False,
                    "/inc/f": True}
    assert routes[("GET", "/guarded/a")].guards == (f"{src.name}.security.get_current_user",)


def test_typed_parameters_and_models_are_validated(app_tree):
    src, load = app_tree({
        "__init__.py": "",
        "main.py": """
            from fastapi import FastAPI, Request, UploadFile, File
            from pydantic import BaseModel

            class Item(BaseModel):
                name: str

            app = FastAPI()

            @app.post("/typed")
            def typed(item: Item, q: int = 0, tag: str | None = None):
                return {}

            @app.post("/raw")
            async def raw(request: Request):
                data = await request.json()
                return {"name": data["name"]}

            @app.post("/raw-validated")
            async def raw_validated(request: Request):
                item = Item.model_validate(await request.json())
                return {}

            @app.get("/untyped")
            def untyped(q):
                return {}

            @app.post("/upload")
            async def upload(file: UploadFile = File(...)):
                return {}
        """,
    })
    load("main:app")
    routes = routes_by_key(src)
    validated = {path: r.validated for (_, path), r in routes.items()}
    assert validated == {"/typed": True, "/raw": False, "/raw-validated": True, "/untyped": False, "/upload": False}
    assert routes[("POST", "/typed")].reads == ("args:q", "args:tag", "json:item")
    assert routes[("POST", "/raw")].reads == ("json:name",)
    assert routes[("POST", "/upload")].sensitive


def test_slowapi_limits_and_auth_middleware(app_tree):
    src, load = app_tree({
        "__init__.py": "",
        "main.py": """
            import jwt
            from fastapi import FastAPI, Request
            from fastapi.responses import JSONResponse
            from slowapi import Limiter
            from slowapi.util import get_remote_address

            limiter = Limiter(key_func=get_remote_address)
            app = FastAPI()
            app.state.limiter = limiter

            @app.middleware("http")
            async def require_token(request: Request, call_next):
                header = request.headers.get("Authorization", "")
                try:
                    jwt.decode(header.removeprefix("Bearer "), "k", algorithms=["HS256"])
                except jwt.PyJWTError:
                    return JSONResponse({"error": "unauthorized"}, status_code=401)
                return await call_next(request)

            @app.post("/login")
            @limiter.limit("5/minute")
            async def login(request: Request):
                return {}

            @app.get("/items")
            async def items():
                return []
        """,
    })
    load("main:app")
    routes = routes_by_key(src)
    assert routes[("POST", "/login")].rate_limited and not routes[("GET", "/items")].rate_limited
    assert routes[("GET", "/items")].auth and routes[("POST", "/login")].auth
