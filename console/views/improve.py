"""Not-understood messages and the NLU training-data inbox."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from console import audit, improve, summary
from console.accounts import Staff
from console.web import csrf_protect, current_user, redirect, render, settings_of

staff = APIRouter(dependencies=[Depends(csrf_protect)])

PERIODS = (7, 30, 90)


def _days(raw) -> int:
    try:
        value = int(raw or 30)
    except ValueError:
        return 30
    return value if value in PERIODS else 30


def _view(raw) -> str:
    """"sample": a random sample of answered messages; otherwise the not-understood ones."""
    return "sample" if raw == "sample" else ""


@staff.get("/improve")
def improve_page(request: Request, user: Staff = Depends(current_user)):
    settings = settings_of(request)
    summary.refresh(settings.db_url)
    days = _days(request.query_params.get("days"))
    view = _view(request.query_params.get("view"))
    since = time.time() - days * 86400
    if view == "sample":
        groups = improve.spot_check(settings.db_url, settings.nlu_inbox, since)
    else:
        groups = improve.not_understood(settings.db_url, settings.nlu_inbox, since)
    return render(
        request,
        "improve.html",
        active="improve",
        view=view,
        groups=groups,
        capped=view != "sample" and sum(len(g.messages) for g in groups) >= improve.MAX_MESSAGES,
        max_messages=improve.MAX_MESSAGES,
        sample_size=improve.SAMPLE_SIZE,
        days=days,
        periods=PERIODS,
        intents=improve.known_intents(settings.db_url, settings.domain_path),
        files=improve.inbox_files(settings.nlu_inbox),
    )


@staff.post("/improve/add")
async def improve_add(request: Request, user: Staff = Depends(current_user)):
    settings = settings_of(request)
    form = await request.form()
    intent = str(form.get("intent") or "")
    days = _days(form.get("days"))
    view = _view(form.get("view"))
    ids = []
    chosen = [form["only"]] if form.get("only") else form.getlist("event_id")
    for raw in chosen:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise HTTPException(status_code=400)
    if intent not in improve.known_intents(settings.db_url, settings.domain_path):
        return redirect("/improve", err="intent", days=days, view=view)
    found = improve.user_texts(settings.db_url, ids[:200]) if ids else []
    if not found:
        return redirect("/improve", err="nothing", days=days, view=view)
    path, added = improve.add_examples(settings.nlu_inbox, intent, [text for _, _, text in found])
    audit.record(
        settings.db_url,
        user.username,
        "improve.add",
        f"nlu_inbox:{intent}",
        f"{added} new example(s) from event(s) {', '.join(str(i) for i, _, _ in found)}",
    )
    return redirect("/improve", msg="added", days=days, view=view)


@staff.get("/improve/files/{intent}.yml")
def improve_file(request: Request, intent: str, user: Staff = Depends(current_user)):
    settings = settings_of(request)
    try:
        path = improve.inbox_file(settings.nlu_inbox, intent)
    except ValueError:
        raise HTTPException(status_code=404)
    if not path.is_file():
        raise HTTPException(status_code=404)
    audit.record(settings.db_url, user.username, "improve.download", f"nlu_inbox:{intent}")
    return Response(
        path.read_text(encoding="utf-8"),
        media_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{intent}.yml"'},
    )
