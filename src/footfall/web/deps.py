"""Access to the process's Services from a request."""

from __future__ import annotations

from starlette.requests import Request

from footfall.services import Services


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc
