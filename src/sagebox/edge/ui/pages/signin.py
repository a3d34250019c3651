"""Signing in to the console with an access key pair, and signing out (edge/ui/session.py)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sagebox.edge.ui.pages import FamilyPages, PageContext, PageRoute


def _next(value: str) -> str:
    return value if value.startswith("/ui/") and "//" not in value else "/ui/"


async def signin_form(ctx: PageContext) -> Response:
    return ctx.render("signin.html", next=_next(ctx.query("next")), failed=False)


async def signin(ctx: PageContext) -> Response:
    sessions = ctx.sessions
    key = await run_in_threadpool(
        sessions.check_key_pair,
        ctx.form.get("access_key_id", ""),
        ctx.form.get("secret_access_key", ""),
    )
    if key is None:
        return ctx.render(
            "signin.html", http_status=401, next=_next(ctx.form.get("next", "")), failed=True
        )
    ctx.new_session = sessions.signed_in(key)
    return ctx.redirect(_next(ctx.form.get("next", "")))


async def signout(ctx: PageContext) -> Response:
    ctx.end_session = True
    return ctx.redirect("/ui/signin" if ctx.sessions.auth_required else "/ui/")


PAGES = FamilyPages(
    "",
    "",
    routes=(
        PageRoute("/ui/signin", signin_form, public=True),
        PageRoute("/ui/signin", signin, methods=("POST",), public=True),
        PageRoute("/ui/signout", signout, methods=("POST",), public=True),
    ),
)
