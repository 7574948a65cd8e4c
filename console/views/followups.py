"""Follow-up list of consultation requests; CSV export for admins."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from console import audit, followups, labels
from console.accounts import Staff
from console.web import csrf_protect, current_user, redirect, references, render, require_admin, settings_of
from records.vocabulary import CONSULTATION_STATUSES

staff = APIRouter(dependencies=[Depends(csrf_protect)])
admin = APIRouter(dependencies=[Depends(require_admin), Depends(csrf_protect)])


@staff.get("/followups")
def followup_list(request: Request, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    flt = followups.FollowupFilter.from_params(request.query_params)
    rows, total = followups.listing(url, flt, references(request), user.username)
    audit.record(
        url,
        user.username,
        "followups.view",
        None,
        f"status={flt.status or 'any'}{' overdue' if flt.overdue else ''}"
        f"{' assignee=' + flt.assignee if flt.assignee else ''} page={flt.page} rows={len(rows)}",
    )
    pages = max(1, -(-total // followups.PAGE_SIZE))
    return render(
        request,
        "followups.html",
        active="followups",
        rows=rows,
        total=total,
        flt=flt,
        pages=pages,
        statuses=CONSULTATION_STATUSES,
        staff_names=followups.assignable(url),
        due_days=labels.followup_due_working_days(),
    )


@staff.post("/followups/{request_id}/status")
def followup_status(
    request: Request, request_id: int, status: str = Form(""), user: Staff = Depends(current_user)
):
    url = settings_of(request).db_url
    if status not in CONSULTATION_STATUSES:
        raise HTTPException(status_code=400)
    sender = followups.set_status(url, request_id, status)
    if sender is None:
        raise HTTPException(status_code=404)
    audit.record(url, user.username, "followup.status", references(request).target(sender), status)
    return _back(request, request_id, "st", msg="status")


def _back(request: Request, request_id: int, anchor: str, **params):
    """Back to the list as it was filtered, at the request's control."""
    flt = followups.FollowupFilter.from_params(request.query_params)
    return redirect(
        "/followups",
        anchor=f"{anchor}{request_id}",
        **params,
        status=flt.status,
        overdue="1" if flt.overdue else "",
        assignee=flt.assignee,
        page=flt.page if flt.page > 1 else "",
    )


@staff.post("/followups/{request_id}/assignee")
def followup_assignee(
    request: Request, request_id: int, assignee: str = Form(""), user: Staff = Depends(current_user)
):
    """Assign the request to a member of staff (an active account), or to nobody."""
    url = settings_of(request).db_url
    assignee = assignee.strip()
    if assignee and assignee not in followups.assignable(url):
        return _back(request, request_id, "as", err="assignee")
    sender = followups.assign(url, request_id, assignee, user.username)
    if sender is None:
        raise HTTPException(status_code=404)
    audit.record(url, user.username, followups.ASSIGN_ACTION, references(request).target(sender), assignee)
    return _back(request, request_id, "as", msg="assigned")


@admin.get("/followups/export.csv")
def followup_export(request: Request, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    flt = followups.FollowupFilter.from_params(request.query_params)
    content, count = followups.export(url, flt, references(request), user.username)
    audit.record(url, user.username, "followups.export", None, f"status={flt.status or 'any'} rows={count}")
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="follow-ups.csv"'},
    )
