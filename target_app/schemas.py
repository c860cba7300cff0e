from datetime import datetime
from typing import Literal, Optional

from pydantic import BaseModel, Field

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class FeedQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100)
    before: Optional[int] = Field(None, gt=0)


class PostCreate(BaseModel):
    content: str = Field(min_length=1, max_length=5000)
    visibility: Literal["public", "friends", "private"] = "public"
    image_url: Optional[str] = Field(None, max_length=500)


class CommentCreate(BaseModel):
    body: str = Field(min_length=1, max_length=2000)


class MessageCreate(BaseModel):
    recipient_id: int = Field(gt=0)
    body: str = Field(min_length=1, max_length=5000)


class EventCreate(BaseModel):
    title: str = Field(min_length=3, max_length=200)
    description: str = Field("", max_length=5000)
    city: Optional[str] = Field(None, max_length=120)
    venue: Optional[str] = Field(None, max_length=200)
    starts_at: datetime


class SearchQuery(BaseModel):
    q: str = Field(min_length=1, max_length=100)
    limit: int = Field(20, ge=1, le=50)


class ImageUpload(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: Literal[IMAGE_TYPES]
    size: int = Field(gt=0, le=5 * 1024 * 1024)
