"""Contract 004: JWT-authenticated page tracking and session lifecycle (`/api/v1/...`)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["004 sessions and page tracking"])
