import logging
import os
import uuid
from typing import Any

import httpx
from fastapi import APIRouter, BackgroundTasks, File, HTTPException, Request, UploadFile

from ... import crud
from ...core.config import settings
from ...core.security import content_fingerprint
from ...limiting import limiter
from ...models import ImportRequest, Message, NoteCreate, NotePublic, NoteUpdate, ShareRequest
from ...services.mailer import send_share_email
from ..deps import CurrentUserDep, SessionDep

router = APIRouter()
log = logging.getLogger(__name__)

ALLOWED_CONTENT_TYPES = {"image/png", "image/jpeg", "application/pdf"}


def _owned_note(db, note_id: int, user_id: int):
    note = crud.get_note(db, note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="Note not found")
    if note["owner_id"] != user_id:
        raise HTTPException(status_code=403, detail="Not enough permissions")
    return note


@router.get("/", response_model=list[NotePublic])
def read_notes(db: SessionDep, current_user: CurrentUserDep, skip: int = 0, limit: int = 100) -> Any:
    return [dict(n) for n in crud.list_notes(db, current_user.id, skip=skip, limit=limit)]


@router.post("/", response_model=NotePublic)
def create_note(db: SessionDep, current_user: CurrentUserDep, note_in: NoteCreate) -> Any:
    note_id = crud.create_note(db, note_in, owner_id=current_user.id)
    return dict(crud.get_note(db, note_id))


@router.get("/search", response_model=list[NotePublic])
def search_notes(db: SessionDep, current_user: CurrentUserDep, q: str) -> Any:
    return [dict(n) for n in crud.search_notes(db, current_user.id, q)]


@router.get("/tags", response_model=list[str])
def list_tags(db: SessionDep) -> Any:
    rows = db.execute("SELECT DISTINCT tag FROM notes WHERE tag IS NOT NULL ORDER BY tag").fetchall()
    return [r["tag"] for r in rows]


@router.get("/by-tag", response_model=list[NotePublic])
async def notes_by_tag(request: Request, db: SessionDep, current_user: CurrentUserDep) -> Any:
    tag = request.query_params.get("tag", "")
    return [dict(n) for n in crud.notes_by_tag(db, current_user.id, tag)]


@router.get("/{note_id}", response_model=NotePublic)
def read_note(note_id: int, db: SessionDep, current_user: CurrentUserDep) -> Any:
    return dict(_owned_note(db, note_id, current_user.id))


@router.put("/{note_id}", response_model=NotePublic)
def update_note(note_id: int, db: SessionDep, current_user: CurrentUserDep, note_in: NoteUpdate) -> Any:
    _owned_note(db, note_id, current_user.id)
    crud.update_note(db, note_id, note_in)
    return dict(crud.get_note(db, note_id))


@router.delete("/{note_id}", response_model=Message)
def delete_note(note_id: int, db: SessionDep, current_user: CurrentUserDep) -> Any:
    _owned_note(db, note_id, current_user.id)
    crud.delete_note(db, note_id)
    return Message(message="Note deleted successfully")


@router.post("/{note_id}/share", response_model=Message)
def share_note(note_id: int, body: ShareRequest, background_tasks: BackgroundTasks, db: SessionDep, current_user: CurrentUserDep) -> Any:
    note = _owned_note(db, note_id, current_user.id)
    background_tasks.add_task(send_share_email, body.email, note["title"], current_user.email)
    log.info("user %s shared note %s", current_user.id, note_id)
    return Message(message="Shared")


@router.post("/import", response_model=NotePublic)
async def import_note(body: ImportRequest, db: SessionDep, current_user: CurrentUserDep) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.get(str(body.url))
    note_id = crud.create_note(db, NoteCreate(title=str(body.url)[:200], body=resp.text[:20_000], tag=body.tag), owner_id=current_user.id)
    return dict(crud.get_note(db, note_id))


@router.post("/{note_id}/attachments")
@limiter.limit("20/hour")
async def upload_attachment(request: Request, note_id: int, db: SessionDep, current_user: CurrentUserDep, file: UploadFile = File(...)) -> Any:
    _owned_note(db, note_id, current_user.id)
    if file.content_type not in ALLOWED_CONTENT_TYPES:
        raise HTTPException(status_code=415, detail="Unsupported file type")
    data = await file.read(settings.MAX_ATTACHMENT_BYTES + 1)
    if len(data) > settings.MAX_ATTACHMENT_BYTES:
        raise HTTPException(status_code=413, detail="File too large")
    stored_name = f"{uuid.uuid4().hex}{os.path.splitext(file.filename or '')[1][:10]}"
    with open(os.path.join(settings.UPLOAD_DIR, stored_name), "wb") as out:
        out.write(data)
    attachment_id = crud.add_attachment(db, note_id, stored_name, content_fingerprint(data))
    return {"id": attachment_id, "filename": stored_name}
