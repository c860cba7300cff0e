from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserBase(BaseModel):
    email: str = Field(max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    full_name: str | None = Field(default=None, max_length=255)


class UserCreate(UserBase):
    password: str


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    is_superuser: bool = False


class UpdatePassword(BaseModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=12, max_length=128)


class NoteCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20_000)
    tag: str | None = Field(default=None, max_length=40)
    is_public: bool = False


class NoteUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=20_000)


class NotePublic(BaseModel):
    id: int
    owner_id: int
    title: str
    body: str
    tag: str | None = None
    is_public: bool = False


class ImportRequest(BaseModel):
    url: HttpUrl
    tag: str | None = Field(default=None, max_length=40)


class ShareRequest(BaseModel):
    email: str = Field(max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")


class Message(BaseModel):
    message: str
