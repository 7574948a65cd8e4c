"""Not-understood messages and the NLU training-data inbox."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from console import audit, improve, summary
from console.accounts import Staff
from console.web import conversation_path, csrf_protect, current_user, redirect, references, render, settings_of

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


def _page(raw) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _event_ids(form) -> list:
    ids = []
    chosen = [form["only"]] if form.get("only") else form.getlist("event_id")
    for raw in chosen:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise HTTPException(status_code=400)
    return ids


@staff.get("/improve")
def improve_page(request: Request, user: Staff = Depends(current_user)):
    if request.query_params.get("topic"):
        return _topic_page(request, request.query_params["topic"])
    settings = settings_of(request)
    summary.refresh(settings.db_url)
    days = _days(request.query_params.get("days"))
    view = _view(request.query_params.get("view"))
    hidden = request.query_params.get("ignored") == "1"
    since = time.time() - days * 86400
    ignored = improve.ignored_keys(settings.nlu_inbox)

    def keep(message) -> bool:
        return (improve.text_key(message.text) in ignored) == hidden

    if view == "sample":
        groups = improve.spot_check(settings.db_url, settings.nlu_inbox, since, keep=keep)
    else:
        groups = improve.not_understood(settings.db_url, settings.nlu_inbox, since, keep=keep)
    shown, page, pages = improve.paginate(groups, _page(request.query_params.get("page")))
    return render(
        request,
        "improve.html",
        active="improve",
        view=view,
        hidden=hidden,
        groups=groups,
        shown=shown,
        refs=references(request).of(row.first.sender_id for _, rows in shown for row in rows),
        page=page,
        pages=pages,
        truncate_at=improve.TRUNCATE_AT,
        ignored_count=len(ignored),
        capped=view != "sample" and sum(len(g.messages) for g in groups) >= improve.MAX_MESSAGES,
        max_messages=improve.MAX_MESSAGES,
        sample_size=improve.SAMPLE_SIZE,
        days=days,
        periods=PERIODS,
        intents=improve.known_intents(settings.db_url, settings.domain_path),
        files=improve.inbox_files(settings.nlu_inbox),
        topic=None,
    )


def _topic_page(request: Request, raw: str):
    """From a transcript line: "this answer was wrong, the right topic is X"."""
    settings = settings_of(request)
    try:
        event_id = int(raw)
    except ValueError:
        raise HTTPException(status_code=404)
    found = improve.user_texts(settings.db_url, [event_id])
    if not found:
        raise HTTPException(status_code=404)
    _, sender_id, text = found[0]
    return render(
        request,
        "improve.html",
        active="improve",
        topic={"event_id": event_id, "ref": references(request).one(sender_id), "text": text},
        intents=improve.known_intents(settings.db_url, settings.domain_path),
        truncate_at=improve.TRUNCATE_AT,
    )


@staff.post("/improve/add")
async def improve_add(request: Request, user: Staff = Depends(current_user)):
    """Add messages to the NLU inbox under `intent`: from the Improve page, or with
    `back=transcript` from a transcript line (then back to that line)."""
    settings = settings_of(request)
    form = await request.form()
    if form.get("ignore") or form.get("undo"):
        return _ignore(settings, user, form)
    intent = str(form.get("intent") or "")
    days = _days(form.get("days"))
    view = _view(form.get("view"))
    back = form.get("back") == "transcript"
    ids = _event_ids(form)
    found = improve.user_texts(settings.db_url, ids[:200]) if ids else []
    if back and found:  # the control on a transcript line: back to that line
        event_id, sender_id, _ = found[0]
        target = dict(path=conversation_path(references(request).one(sender_id)), anchor=f"e{event_id}")
    else:
        target = dict(path="/improve", days=days, view=view)
    if intent not in improve.known_intents(settings.db_url, settings.domain_path):
        return redirect(err="intent", **target)
    if not found:
        return redirect(err="nothing", **target)
    path, added = improve.add_examples(settings.nlu_inbox, intent, [text for _, _, text in found])
    audit.record(
        settings.db_url,
        user.username,
        "improve.add",
        f"nlu_inbox:{intent}",
        f"{added} new example(s) from event(s) {', '.join(str(i) for i, _, _ in found)}",
    )
    return redirect(msg="added", **target)


def _ignore(settings, user: Staff, form):
    """The "Ignore" / "Show again" buttons of the Improve page (they post with the add
    form): hide a message, and every identical one, from the page, or show it again."""
    days, view = _days(form.get("days")), _view(form.get("view"))
    undo = bool(form.get("undo"))
    try:
        event_id = int(form.get("undo") or form.get("ignore") or "")
    except ValueError:
        raise HTTPException(status_code=400)
    found = improve.user_texts(settings.db_url, [event_id])
    back = dict(days=days, view=view, ignored="1" if undo else "", page=_page(form.get("page")))
    if not found:
        return redirect("/improve", err="nothing", **back)
    key = improve.text_key(found[0][2])
    if improve.set_ignored(settings.nlu_inbox, key, user.username, not undo):
        audit.record(
            settings.db_url,
            user.username,
            "improve.unignore" if undo else "improve.ignore",
            f"improve:{key[:16]}",
            f"message(s) like event {found[0][0]} {'shown again' if undo else 'hidden'}",
        )
    return redirect("/improve", msg="unignored" if undo else "ignored", **back)


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
