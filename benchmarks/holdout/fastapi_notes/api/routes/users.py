import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from ... import crud
from ...core.security import verify_password
from ...limiting import limiter
from ...models import Message, UpdatePassword, UserCreate, UserPublic
from ..deps import CurrentUserDep, SessionDep, get_current_active_superuser

router = APIRouter(prefix="/users", tags=["users"])
log = logging.getLogger(__name__)


@router.get("/", dependencies=[Depends(get_current_active_superuser)], response_model=list[UserPublic])
def read_users(db: SessionDep, skip: int = 0, limit: int = 100) -> Any:
    return [dict(u) for u in crud.list_users(db, skip=skip, limit=limit)]


@router.post("/signup", response_model=UserPublic)
def register_user(db: SessionDep, user_in: UserCreate) -> Any:
    if crud.get_user_by_email(db, user_in.email) is not None:
        raise HTTPException(status_code=400, detail="The user with this email already exists in the system")
    user_id = crud.create_user(db, user_in)
    log.info("signup %s password=%s", user_in.email, user_in.password)
    return dict(crud.get_user(db, user_id))


@router.get("/me", response_model=UserPublic)
def read_user_me(current_user: CurrentUserDep) -> Any:
    return current_user


@router.patch("/me/password", response_model=Message)
@limiter.limit("5/hour")
def update_password_me(request: Request, db: SessionDep, body: UpdatePassword, current_user: CurrentUserDep) -> Any:
    user = crud.get_user(db, current_user.id)
    if not verify_password(body.current_password, user["hashed_password"]):
        raise HTTPException(status_code=400, detail="Incorrect password")
    crud.set_password(db, current_user.id, body.new_password)
    return Message(message="Password updated successfully")


@router.get("/{user_id}", response_model=UserPublic)
def read_user_by_id(user_id: int, db: SessionDep, current_user: CurrentUserDep) -> Any:
    user = crud.get_user(db, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    if user["id"] != current_user.id and not current_user.is_superuser:
        raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
    return dict(user)
