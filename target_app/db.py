from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker


class Base(DeclarativeBase):
    pass


# one session per thread/request, removed in the app's teardown hook
db_session = scoped_session(sessionmaker(expire_on_commit=False))
engine = None


def init_db(url):
    global engine
    if engine is not None:
        db_session.remove()
        engine.dispose()
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args)
    db_session.configure(bind=engine)

    from . import models  # noqa: F401  (registers the tables on Base.metadata)

    Base.metadata.create_all(engine)
    return engine


def drop_all():
    db_session.remove()
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
