"""Admin pages: staff accounts and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request

from console import accounts, audit
from console.accounts import Staff
from console.web import csrf_protect, current_user, redirect, render, require_admin, settings_of

admin = APIRouter(dependencies=[Depends(require_admin), Depends(csrf_protect)])


@admin.get("/admin/audit")
def audit_page(request: Request, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    params = request.query_params
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    flt = audit.AuditFilter(
        username=(params.get("username") or "").strip()[:150],
        action=(params.get("action") or "").strip()[:64],
        page=page,
    )
    rows, total = audit.entries(url, flt)
    audit.record(url, user.username, "audit.view", None, f"page={page}")
    pages = max(1, -(-total // audit.PAGE_SIZE))
    return render(
        request,
        "audit.html",
        active="audit",
        rows=rows,
        total=total,
        flt=flt,
        pages=pages,
        actions=audit.actions(url),
    )


@admin.get("/admin/users")
def users_page(request: Request, user: Staff = Depends(current_user)):
    url = settings_of(request).db_url
    return render(
        request,
        "users.html",
        active="users",
        users=accounts.list_users(url),
        roles=accounts.ROLES,
        form_error=None,
        now=accounts.utcnow(),
    )


def _users_error(request: Request, message: str):
    url = settings_of(request).db_url
    return render(
        request,
        "users.html",
        status_code=400,
        active="users",
        users=accounts.list_users(url),
        roles=accounts.ROLES,
        form_error=message,
        now=accounts.utcnow(),
    )


@admin.post("/admin/users")
def create_account(
    request: Request,
    username: str = Form(""),
    role: str = Form("reviewer"),
    password: str = Form(""),
    password2: str = Form(""),
    user: Staff = Depends(current_user),
):
    if password != password2:
        return _users_error(request, "The two passwords differ.")
    url = settings_of(request).db_url
    try:
        created = accounts.create_user(url, username, password, role)
    except accounts.AccountError as exc:
        return _users_error(request, str(exc))
    audit.record(url, user.username, "account.create", f"user:{created.username}", f"role={created.role}")
    return redirect("/admin/users", msg="user_created")


@admin.post("/admin/users/{user_id}")
def update_account(
    request: Request,
    user_id: int,
    role: str = Form(""),
    active: str = Form(""),
    password: str = Form(""),
    unlock: str = Form(""),
    user: Staff = Depends(current_user),
):
    url = settings_of(request).db_url
    target = accounts.get_user(url, user_id)
    if target is None:
        raise HTTPException(status_code=404)
    try:
        updated = accounts.update_user(
            url,
            user_id,
            role=role or None,
            active=active == "1",
            password=password or None,
            unlock=unlock == "1",
        )
    except accounts.AccountError as exc:
        return _users_error(request, str(exc))
    changes = [f"role={updated.role}", f"active={updated.active}"]
    if password:
        changes.append("password reset")
    if unlock == "1":
        changes.append("unlocked")
    audit.record(url, user.username, "account.update", f"user:{updated.username}", ", ".join(changes))
    return redirect("/admin/users", msg="user_updated")
