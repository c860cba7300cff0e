from fastapi import APIRouter, Depends

from .deps import get_current_user
from .routes import feed, integrations, login, notes, users, utils

api_router = APIRouter()
api_router.include_router(login.router)
api_router.include_router(users.router)
api_router.include_router(utils.router)
api_router.include_router(notes.router, prefix="/notes", tags=["notes"], dependencies=[Depends(get_current_user)])
api_router.include_router(integrations.router)
api_router.include_router(feed.router)
