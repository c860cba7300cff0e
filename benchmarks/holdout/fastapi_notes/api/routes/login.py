from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from ... import crud
from ...core import security
from ...core.config import settings
from ...limiting import limiter
from ...models import Token
from ..deps import SessionDep

router = APIRouter(tags=["login"])


@router.post("/login/access-token")
@limiter.limit("10/minute")
def login_access_token(request: Request, db: SessionDep, form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 compatible token login, get an access token for future requests."""
    user = crud.authenticate(db, email=form_data.username, password=form_data.password)
    if user is None:
        raise HTTPException(status_code=400, detail="Incorrect email or password")
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return Token(access_token=security.create_access_token(user["id"], expires_delta=expires))
