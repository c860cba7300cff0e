"""Inbound webhooks from the calendar integration and a bulk import endpoint."""
import logging
import os
import shutil

import httpx
from fastapi import APIRouter, HTTPException, Request, UploadFile

from ... import crud
from ...core.config import settings
from ...models import NoteCreate
from ..deps import CurrentUserDep, SessionDep

router = APIRouter(prefix="/integrations", tags=["integrations"])
log = logging.getLogger(__name__)


@router.post("/webhook")
async def calendar_webhook(request: Request, db: SessionDep, current_user: CurrentUserDep):
    data = await request.json()
    try:
        event = data["event"]
        note_id = crud.create_note(db, NoteCreate(title=event["title"], body=event.get("description", "")), owner_id=current_user.id)
        callback = data.get("callback_url")
        if callback:
            httpx.post(callback, json={"note_id": note_id}, timeout=5)
    except Exception as e:
        raise HTTPException(status_code=500, detail=str(e))
    return {"note_id": note_id}


@router.post("/backup")
async def upload_backup(file: UploadFile, current_user: CurrentUserDep):
    destination = os.path.join(settings.UPLOAD_DIR, file.filename)
    with open(destination, "wb") as buffer:
        shutil.copyfileobj(file.file, buffer)
    return {"filename": file.filename}
