"""Inbox, transcript, annotations; transcript export and deletion for admins."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from console import attention, audit, improve, inbox, labels, savedviews, summary, transcript
from console.accounts import Staff
from console.csvexport import to_csv
from console.references import audit_target, label
from console.web import (
    Forbidden,
    conversation_path,
    csrf_protect,
    current_user,
    redirect,
    references,
    render,
    require_admin,
    settings_of,
)

staff = APIRouter(dependencies=[Depends(csrf_protect)])
admin = APIRouter(dependencies=[Depends(require_admin), Depends(csrf_protect)])

TRANSCRIPT_COLUMNS = (
    "event_id",
    "time_utc",
    "kind",
    "text",
    "intent",
    "confidence",
    "entities",
    "action",
    "slot",
    "value",
)


@staff.get("/")
def home(request: Request, user: Staff = Depends(current_user)):
    settings = settings_of(request)
    summary.refresh(settings.db_url)
    sections = attention.sections(settings.db_url)
    refs = references(request).of(item.sender_id for section in sections for item in section.items)
    for section in sections:
        for item in section.items:
            item.ref = refs[item.sender_id]
    counts = {section.key: section.count for section in sections}
    return render(
        request,
        "home.html",
        active="home",
        sections=sections,
        attention={**counts, "total": sum(counts.values())},  # the navigation's counts, not counted twice
        due_days=labels.followup_due_working_days(),
    )


@staff.get("/inbox")
def inbox_page(request: Request, user: Staff = Depends(current_user)):
    settings = settings_of(request)
    summary.refresh(settings.db_url)
    flt = inbox.InboxFilter.from_params(request.query_params)
    result = inbox.page(settings.db_url, flt, settings.timezone, settings.page_size, references(request))
    return render(
        request,
        "inbox.html",
        active="inbox",
        flt=flt,
        result=result,
        outcomes=inbox.outcome_labels(),
        intents=[(name, labels.intent(name)) for name in improve.known_intents(settings.db_url, settings.domain_path)],
        tags=transcript.all_tags(settings.db_url),
        views=savedviews.visible_to(settings.db_url, user),
        filters_query=flt.query_string(q="", page=1),
    )


@staff.post("/inbox/views")
def save_view(
    request: Request,
    name: str = Form(""),
    filters: str = Form(""),
    shared: str = Form(""),
    user: Staff = Depends(current_user),
):
    """Save the inbox's current filters under a name (the text search is left out)."""
    url = settings_of(request).db_url
    try:
        view = savedviews.save(url, user, name, filters, shared == "1")
    except savedviews.ViewError as exc:
        back = savedviews.filters_query(QueryParams(filters))
        return RedirectResponse(f"/inbox?{back + '&' if back else ''}err=view_{exc}#views", status_code=303)
    audit.record(url, user.username, "inbox.view_save", f"view:{view.id}", f"{'shared ' if view.shared else ''}{view.query}"[:500])
    return RedirectResponse(f"{view.href}{'&' if view.query else '?'}msg=view_saved#views", status_code=303)


@staff.post("/inbox/views/{view_id}/delete")
def delete_view(request: Request, view_id: int, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    try:
        view = savedviews.delete(url, user, view_id)
    except PermissionError:
        raise Forbidden()
    if view is None:
        raise HTTPException(status_code=404)
    audit.record(url, user.username, "inbox.view_delete", f"view:{view.id}", view.name)
    return redirect("/inbox", anchor="views", msg="view_deleted")


def _sender(request: Request, ref: str) -> str:
    """The sender id of a conversation reference; 404 for an unknown or malformed one."""
    sender_id = references(request).resolve(ref)
    if sender_id is None:
        raise HTTPException(status_code=404)
    return sender_id


def _transcript_or_404(url: str, sender_id: str) -> transcript.Transcript:
    found = transcript.load(url, sender_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


@staff.get("/conversations/{ref}")
def transcript_page(request: Request, ref: str, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    conversation = _transcript_or_404(url, _sender(request, ref))
    audit.record(url, user.username, "transcript.view", audit_target(ref))
    return render(
        request,
        "transcript.html",
        active="inbox",
        c=conversation,
        ref=ref,
        ref_label=label(ref),
        tags=transcript.all_tags(url),
        details=request.query_params.get("details") == "1",
        screening_answers=transcript.screening_answers,
        triage_answers=transcript.triage_answers,
    )


def _back(ref: str, view: str, anchor: str, **params):
    """Back to the transcript, in the view it was posted from, at `anchor`."""
    return redirect(conversation_path(ref), anchor=anchor, details="1" if view == "details" else "", **params)


def _known(request: Request, ref: str) -> str:
    """The sender id of an existing conversation with this reference, else 404."""
    sender_id = _sender(request, ref)
    if not transcript.conversation_exists(settings_of(request).db_url, sender_id):
        raise HTTPException(status_code=404)
    return sender_id


@staff.post("/conversations/{ref}/tags")
def add_tag(
    request: Request, ref: str, name: str = Form(""), view: str = Form(""), user: Staff = Depends(current_user)
):
    url = settings_of(request).db_url
    sender_id = _known(request, ref)
    try:
        tag = transcript.add_tag(url, sender_id, name)
    except transcript.AnnotationError:
        return _back(ref, view, "tags", err="tag")
    audit.record(url, user.username, "conversation.tag", audit_target(ref), tag)
    return _back(ref, view, "tags", msg="tagged")


@staff.post("/conversations/{ref}/tags/{tag_id}/remove")
def remove_tag(
    request: Request, ref: str, tag_id: int, view: str = Form(""), user: Staff = Depends(current_user)
):
    url = settings_of(request).db_url
    sender_id = _known(request, ref)
    name = transcript.remove_tag(url, sender_id, tag_id)
    audit.record(url, user.username, "conversation.untag", audit_target(ref), name or "")
    return _back(ref, view, "tags", msg="untagged")


@staff.post("/conversations/{ref}/review")
def review(
    request: Request,
    ref: str,
    reviewed: str = Form("1"),
    view: str = Form(""),
    user: Staff = Depends(current_user),
):
    url = settings_of(request).db_url
    sender_id = _known(request, ref)
    done = reviewed == "1"
    transcript.set_reviewed(url, sender_id, done, user.username)
    audit.record(
        url,
        user.username,
        "conversation.review",
        audit_target(ref),
        "reviewed" if done else "not reviewed",
    )
    return _back(ref, view, "review", msg="reviewed" if done else "unreviewed")


def _event_id(raw: str):
    try:
        return int(raw) if raw.strip() else None
    except ValueError:
        raise HTTPException(status_code=400)


@staff.post("/conversations/{ref}/notes")
def add_note(
    request: Request,
    ref: str,
    text: str = Form(""),
    event_id: str = Form(""),
    view: str = Form(""),
    user: Staff = Depends(current_user),
):
    url = settings_of(request).db_url
    sender_id = _known(request, ref)
    number = _event_id(event_id)
    anchor = f"e{number}" if number is not None else "notes"
    try:
        transcript.add_note(url, sender_id, user.username, text, number)
    except transcript.AnnotationError:
        return _back(ref, view, anchor, err="note")
    audit.record(url, user.username, "conversation.note", audit_target(ref))
    return _back(ref, view, anchor, msg="noted")


@staff.post("/conversations/{ref}/flags")
def flag(
    request: Request,
    ref: str,
    event_id: str = Form(""),
    reason: str = Form(""),
    view: str = Form(""),
    user: Staff = Depends(current_user),
):
    url = settings_of(request).db_url
    sender_id = _known(request, ref)
    number = _event_id(event_id)
    try:
        if number is None:
            raise transcript.AnnotationError("no event")
        transcript.flag_message(url, sender_id, user.username, number, reason)
    except transcript.AnnotationError:
        return _back(ref, view, f"e{number}" if number is not None else "", err="event")
    audit.record(url, user.username, "message.flag", audit_target(ref), f"event {number}")
    return _back(ref, view, f"e{number}", msg="flagged")


def _iso(timestamp) -> str:
    return "" if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat()


@admin.get("/conversations/{ref}/export.csv")
def export_transcript(request: Request, ref: str, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    conversation = _transcript_or_404(url, _sender(request, ref))
    rows = []
    for item in conversation.items:
        entities = "; ".join(
            f"{e.get('entity')}={e.get('value')}" + (f" ({e['role']})" if e.get("role") else "")
            for e in item.entities
        )
        rows.append(
            (
                item.event_id,
                _iso(item.timestamp),
                item.kind,
                item.text,
                item.intent or "",
                "" if item.confidence is None else f"{item.confidence:.4f}",
                entities,
                item.name if item.kind == "action" else "",
                item.name if item.kind == "slot" else "",
                "" if item.value is None else item.value,
            )
        )
    audit.record(url, user.username, "transcript.export", audit_target(ref), f"{len(rows)} rows")
    return Response(
        to_csv(TRANSCRIPT_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="conversation.csv"'},
    )


@admin.post("/conversations/{ref}/delete")
def delete(request: Request, ref: str, confirm: str = Form(""), user: Staff = Depends(current_user)):
    from records import store

    url = settings_of(request).db_url
    sender_id = _known(request, ref)
    if confirm.strip() != label(ref):
        return redirect(conversation_path(ref), err="confirm")
    counts = store.forget_sender(sender_id, url=url)
    summary.forget(url, sender_id)
    audit.record(
        url,
        user.username,
        "conversation.delete",
        f"conversation:sha256:{store.sender_hash(sender_id)}",
        ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
    )
    return redirect("/inbox", msg="deleted")
