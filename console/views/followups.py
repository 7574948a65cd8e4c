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
    rows, total = followups.listing(url, flt, references(request))
    audit.record(
        url,
        user.username,
        "followups.view",
        None,
        f"status={flt.status or 'any'}{' overdue' if flt.overdue else ''} page={flt.page} rows={len(rows)}",
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
    flt = followups.FollowupFilter.from_params(request.query_params)
    return redirect(
        "/followups",
        anchor=f"st{request_id}",
        msg="status",
        status=flt.status,
        overdue="1" if flt.overdue else "",
    )


@admin.get("/followups/export.csv")
def followup_export(request: Request, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    flt = followups.FollowupFilter.from_params(request.query_params)
    content, count = followups.export(url, flt, references(request))
    audit.record(url, user.username, "followups.export", None, f"status={flt.status or 'any'} rows={count}")
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="follow-ups.csv"'},
    )
