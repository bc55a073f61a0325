"""Contract 003 (Stadistics by Cuzzi) as its README describes it: FastAPI + SQLAlchemy + SQLite.

One `events` table (id INTEGER primary key, user_id, event_type, timestamp,
metadata JSON; indexes on user_id, event_type and timestamp), an ORM model,
pydantic schemas, a session per request through `Depends(get_db)` and sync
handlers, as the README's project layout (main.py, models.py, schemas.py,
database.py) implies. Endpoints: `POST /events/`, `GET /events/` and
`GET /stats/total|by-event-type|by-user|over-time|user-activity/{id}|recent-activity`.

`python -m bench.replicas.contract003 --db PATH [--port 0]` prints "serving on
http://…". `create_schema(path)` makes an empty database the harness fills.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import JSON, DateTime, Engine, Integer, String, create_engine, desc, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    user_id: Mapped[str | None] = mapped_column(String, index=True)
    event_type: Mapped[str] = mapped_column(String, index=True)
    timestamp: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    # `metadata` is reserved on declarative classes: the attribute has another name.
    event_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)


class EventCreate(BaseModel):
    user_id: str
    event_type: str
    metadata: dict[str, Any] | None = None


class EventOut(BaseModel):
    id: int
    user_id: str | None
    event_type: str
    timestamp: dt.datetime
    metadata: dict[str, Any] | None = Field(default=None)


class TypeCount(BaseModel):
    event_type: str
    count: int


def make_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})


def create_schema(path: Path) -> None:
    engine = make_engine(path)
    Base.metadata.create_all(bind=engine)
    engine.dispose()


def make_app(path: Path) -> FastAPI:
    engine = make_engine(path)
    Base.metadata.create_all(bind=engine)
    session_factory = sessionmaker(autocommit=False, autoflush=False, bind=engine)
    app = FastAPI(title="Stadistics by Cuzzi (replica)")

    def get_db() -> Iterator[Session]:
        db = session_factory()
        try:
            yield db
        finally:
            db.close()

    def out(event: Event) -> EventOut:
        return EventOut(
            id=event.id,
            user_id=event.user_id,
            event_type=event.event_type,
            timestamp=event.timestamp,
            metadata=event.event_metadata,
        )

    def by_type(db: Session, *filters: Any) -> list[TypeCount]:
        count = func.count(Event.id)
        rows = (
            db.query(Event.event_type, count)
            .filter(*filters)
            .group_by(Event.event_type)
            .order_by(desc(count))
            .all()
        )
        return [TypeCount(event_type=name, count=n) for name, n in rows]

    @app.post("/events/", response_model=EventOut)
    def create_event(event: EventCreate, db: Session = Depends(get_db)) -> EventOut:  # noqa: B008
        row = Event(
            user_id=event.user_id,
            event_type=event.event_type,
            timestamp=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            event_metadata=event.metadata,
        )
        db.add(row)
        db.commit()
        db.refresh(row)
        return out(row)

    @app.get("/events/", response_model=list[EventOut])
    def get_events(
        skip: int = 0,
        limit: int = 100,
        user_id: str | None = None,
        event_type: str | None = None,
        db: Session = Depends(get_db),  # noqa: B008
    ) -> list[EventOut]:
        query = db.query(Event)
        if user_id:
            query = query.filter(Event.user_id == user_id)
        if event_type:
            query = query.filter(Event.event_type == event_type)
        return [out(e) for e in query.offset(skip).limit(limit).all()]

    @app.get("/stats/total")
    def stats_total(db: Session = Depends(get_db)) -> dict[str, int]:  # noqa: B008
        return {
            "total_events": db.query(func.count(Event.id)).scalar() or 0,
            "unique_users": db.query(func.count(func.distinct(Event.user_id))).scalar() or 0,
            "unique_event_types": db.query(func.count(func.distinct(Event.event_type))).scalar()
            or 0,
        }

    @app.get("/stats/by-event-type", response_model=list[TypeCount])
    def stats_by_event_type(db: Session = Depends(get_db)) -> list[TypeCount]:  # noqa: B008
        return by_type(db)

    @app.get("/stats/by-user")
    def stats_by_user(limit: int = 10, db: Session = Depends(get_db)) -> list[dict[str, Any]]:  # noqa: B008
        count = func.count(Event.id)
        rows = (
            db.query(Event.user_id, count)
            .filter(Event.user_id.is_not(None))
            .group_by(Event.user_id)
            .order_by(desc(count))
            .limit(limit)
            .all()
        )
        return [{"user_id": user, "count": n} for user, n in rows]

    @app.get("/stats/over-time")
    def stats_over_time(days: int = 7, db: Session = Depends(get_db)) -> list[dict[str, Any]]:  # noqa: B008
        since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
        day = func.date(Event.timestamp)
        rows = (
            db.query(day, func.count(Event.id))
            .filter(Event.timestamp >= since)
            .group_by(day)
            .order_by(day)
            .all()
        )
        return [{"date": d, "count": n} for d, n in rows]

    @app.get("/stats/user-activity/{user_id}")
    def stats_user_activity(user_id: str, db: Session = Depends(get_db)) -> dict[str, Any]:  # noqa: B008
        total = db.query(func.count(Event.id)).filter(Event.user_id == user_id).scalar() or 0
        if not total:
            raise HTTPException(404, "User not found")
        last = db.query(func.max(Event.timestamp)).filter(Event.user_id == user_id).scalar()
        return {
            "user_id": user_id,
            "total_events": total,
            "events_by_type": by_type(db, Event.user_id == user_id),
            "last_event_at": last,
        }

    @app.get("/stats/recent-activity")
    def stats_recent_activity(minutes: int = 60, db: Session = Depends(get_db)) -> dict[str, Any]:  # noqa: B008
        since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=minutes)
        types = by_type(db, Event.timestamp >= since)
        return {
            "time_window_minutes": minutes,
            "total_events": sum(t.count for t in types),
            "by_type": types,
        }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> int:
    from bench.replicas._serve import serve

    parser = argparse.ArgumentParser(description="contract 003 replica")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve(make_app(args.db), name="contract 003 replica", host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
