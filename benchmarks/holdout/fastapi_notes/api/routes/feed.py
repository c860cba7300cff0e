from typing import Any

from fastapi import APIRouter

from ... import crud
from ...models import NotePublic
from ..deps import ReaderDep, SessionDep

router = APIRouter(prefix="/feed", tags=["feed"])

FALLBACK_FEED = [
    {"id": 1, "owner_id": 1, "title": "Welcome to Notes", "body": "Write your first note!", "tag": "intro", "is_public": True},
    {"id": 2, "owner_id": 1, "title": "Keyboard shortcuts", "body": "Ctrl+N creates a note.", "tag": "tips", "is_public": True},
]


@router.get("/", response_model=list[NotePublic])
def public_feed(db: SessionDep, reader: ReaderDep, limit: int = 20) -> Any:
    notes = [dict(n) for n in crud.public_notes(db, limit=limit)]
    if not notes:
        return FALLBACK_FEED
    return notes


@router.get("/mine", response_model=list[NotePublic])
def my_feed(db: SessionDep, reader: ReaderDep) -> Any:
    return [dict(n) for n in crud.list_notes(db, reader.id, limit=20)]
