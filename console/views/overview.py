"""Counts and charts for the last 7 or 30 days."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from console import overview, summary
from console.accounts import Staff
from console.web import csrf_protect, current_user, render, settings_of

staff = APIRouter(dependencies=[Depends(csrf_protect)])


@staff.get("/overview")
def overview_page(request: Request, user: Staff = Depends(current_user)):
    settings = settings_of(request)
    summary.refresh(settings.db_url)
    try:
        days = int(request.query_params.get("days") or 7)
    except ValueError:
        days = 7
    days = days if days in overview.PERIODS else 7
    data = overview.compute(settings.db_url, days, settings.timezone)
    return render(request, "overview.html", active="overview", o=data, periods=overview.PERIODS)
