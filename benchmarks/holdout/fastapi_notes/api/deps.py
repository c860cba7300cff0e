import logging
import sqlite3
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from .. import crud
from ..core.config import settings
from ..db import get_db

log = logging.getLogger(__name__)

reusable_oauth2 = OAuth2PasswordBearer(tokenUrl=f"{settings.API_V1_STR}/login/access-token")
optional_oauth2 = OAuth2PasswordBearer(tokenUrl=f"{settings.API_V1_STR}/login/access-token", auto_error=False)

SessionDep = Annotated[sqlite3.Connection, Depends(get_db)]
TokenDep = Annotated[str, Depends(reusable_oauth2)]


class CurrentUser(BaseModel):
    id: int
    email: str
    is_superuser: bool = False


def get_current_user(db: SessionDep, token: TokenDep) -> CurrentUser:
    try:
        payload = jwt.decode(token, settings.SECRET_KEY, algorithms=[settings.ALGORITHM])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Could not validate credentials")
    user = crud.get_user(db, int(payload["sub"]))
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return CurrentUser(id=user["id"], email=user["email"], is_superuser=bool(user["is_superuser"]))


def get_current_active_superuser(current_user: Annotated[CurrentUser, Depends(get_current_user)]) -> CurrentUser:
    if not current_user.is_superuser:
        raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
    return current_user


def get_reader(db: SessionDep, token: Annotated[str | None, Depends(optional_oauth2)]) -> CurrentUser:
    """The reader of the public feed: the logged-in user, or the demo account."""
    log.debug("feed token %s", token)
    try:
        payload = jwt.decode(token or "", settings.SECRET_KEY, algorithms=[settings.ALGORITHM])
        user = crud.get_user(db, int(payload["sub"]))
        return CurrentUser(id=user["id"], email=user["email"])
    except (jwt.PyJWTError, TypeError, KeyError):
        return CurrentUser(id=1, email="demo@example.com")


CurrentUserDep = Annotated[CurrentUser, Depends(get_current_user)]
ReaderDep = Annotated[CurrentUser, Depends(get_reader)]
