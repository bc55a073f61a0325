"""Request and response models of contract 004, with the README's own examples."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from footfall.model import DEFAULT_APP
from footfall.timeparse import TimeFormatError, parse_time

AppName = Annotated[
    str,
    Field(min_length=1, max_length=200, description="The app (site) to address."),
]


class AppRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"app": "myapp"}]})

    app: AppName = DEFAULT_APP


class ValidateTokenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"valid": True, "user": "Demo", "message": "Token is valid"}]
        }
    )

    valid: bool
    user: str
    message: str


class TokenInfoResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user": "Demo",
                    "payload": {"sub": "Demo", "exp": 1751046357},
                    "message": "Token information retrieved successfully",
                }
            ]
        }
    )

    user: str
    payload: dict[str, Any]
    message: str


_MAX_TIMESPENT = 10 * 365 * 86_400  # ten years of seconds: anything more is a unit mistake

Seconds = Annotated[
    int | Annotated[float, Field(allow_inf_nan=False)],
    Field(ge=0, le=_MAX_TIMESPENT, description="Seconds spent on the page."),
]


class PageTrackRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"page": "homepage", "timespent": 120}]}
    )

    page: Annotated[str, Field(min_length=1, max_length=2048, description="The page.")]
    timespent: Seconds
    app: AppName = DEFAULT_APP

    @field_validator("timespent", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("timespent must be a number of seconds, not a boolean")
        return value


class PageTrackResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "message": "Page tracked successfully",
                    "page": "string",
                    "timespent": 120,
                    "timestamp": "2024-01-01T12:00:00Z",
                }
            ]
        }
    )

    message: str
    page: str
    timespent: int | float
    timestamp: str


PageSeconds = dict[str, int | float]


class TimeSpent(BaseModel):
    last_24hr: PageSeconds
    last_7days: PageSeconds
    last_1month: PageSeconds = Field(description="The last 30 days.")
    all_time: PageSeconds


class PageStatsResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "page_counts": {"homepage": 150, "about": 75},
                    "time_spent": {
                        "last_24hr": {"homepage": 3600, "about": 1800},
                        "last_7days": {"homepage": 25200, "about": 12600},
                        "last_1month": {"homepage": 108000, "about": 54000},
                        "all_time": {"homepage": 216000, "about": 108000},
                    },
                }
            ]
        }
    )

    page_counts: dict[str, int]
    time_spent: TimeSpent


class ReadRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"app": "myapp", "user": "john.doe@example.com"},
                {"app": "myapp", "user": "all"},
                {"app": "myapp"},
            ]
        }
    )

    app: AppName = DEFAULT_APP
    user: str | None = Field(None, description='One user; omitted or "all": every user.')


class SessionRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"username": "john_doe", "time": "2024-01-01T12:00:00Z", "status": "active"}
            ]
        }
    )

    username: Annotated[str, Field(min_length=1, max_length=500)]
    time: str = Field(
        description="ISO-8601: 2024-01-01T12:00:00Z, 2024-01-01T12:00:00.123Z, "
        "2024-01-01T12:00:00+02:00, or without offset (UTC)."
    )
    status: str | None = Field(
        None, max_length=50, description="active, paused or ended (recorded, not required)."
    )
    app: AppName = DEFAULT_APP
    session_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The session to act on; default: the user's latest open session. "
        "On session_start: the id to give the new session.",
    )

    @field_validator("time")
    @classmethod
    def _iso_time(cls, value: str) -> str:
        try:
            parse_time(value)
        except TimeFormatError as exc:  # a 422 listing the accepted formats
            raise ValueError(str(exc)) from None
        return value


class SessionStartResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "0199a6b0-8f7e-7c3a-9d2e-4b1f0a6c5e21",
                    "message": "Session started successfully",
                }
            ]
        }
    )

    session_id: str
    message: str


class MessageResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"message": "Session paused successfully"}]}
    )

    message: str


class HeatmapDateRange(BaseModel):
    start_date: str
    end_date: str


class HeatmapData(BaseModel):
    daily_sessions: dict[str, int]
    weekly_hourly: dict[str, dict[str, int]] = Field(
        description='Weekday ("0" = Monday … "6") → hour ("0" … "23") → sessions started.'
    )
    total_sessions: int
    total_days_with_activity: int
    date_range: HeatmapDateRange


class HeatmapResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "heatmap_data": {
                        "daily_sessions": {"2024-01-01": 5, "2024-01-02": 12, "2024-01-03": 8},
                        "weekly_hourly": {
                            "0": {"9": 5, "10": 12, "11": 8},
                            "1": {"9": 3, "10": 15, "11": 10},
                        },
                        "total_sessions": 25,
                        "total_days_with_activity": 3,
                        "date_range": {"start_date": "2024-01-01", "end_date": "2024-01-03"},
                    }
                }
            ]
        }
    )

    heatmap_data: HeatmapData


class HourCount(BaseModel):
    hour: int
    count: int


class ActiveDay(BaseModel):
    date: str
    day: str
    count: int
    most_active_hours: list[HourCount]


class MostActiveResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "most_active_days": [
                        {
                            "date": "2024-01-15",
                            "day": "Monday",
                            "count": 42,
                            "most_active_hours": [
                                {"hour": 10, "count": 15},
                                {"hour": 14, "count": 12},
                                {"hour": 9, "count": 8},
                            ],
                        }
                    ]
                }
            ]
        }
    )

    most_active_days: list[ActiveDay]


class SessionStatsResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"total_users": 25, "avg_session_time": 45.5}]}
    )

    total_users: int
    avg_session_time: float = Field(description="Mean active seconds of ended sessions.")


class SessionSummaryResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "app": "myapp",
                    "user": "john.doe@example.com",
                    "total_sessions": 12,
                    "active_sessions": 1,
                    "ended_sessions": 11,
                    "total_active_time": 16200.0,
                    "avg_session_time": 1472.73,
                    "last_session_at": "2024-01-01T12:00:00.000000Z",
                }
            ]
        }
    )

    app: str
    user: str
    total_sessions: int
    active_sessions: int = Field(description="Sessions not ended yet (active or paused).")
    ended_sessions: int
    total_active_time: float = Field(description="Active seconds of all sessions, pauses excluded.")
    avg_session_time: float = Field(description="Mean active seconds of ended sessions.")
    last_session_at: str | None = Field(description="When the latest session started.")


# --- auth endpoints ------------------------------------------------------------
