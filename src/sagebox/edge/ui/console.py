"""The web console at /ui/: routes, the shared layout's context, sessions, security headers.

The edge hands every unsigned request under /ui/ here (routing.is_console_path) after
the Host and Origin rules (gate.py). Static files (CSS, the console's script, uPlot)
ship inside this package and are served from it; nothing is fetched from elsewhere.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import compile_path
from starlette.staticfiles import StaticFiles

from sagebox.edge.ui.calls import TABLES, ApiCalls, ApiFailure
from sagebox.edge.ui.formatting import dig, status_class, when
from sagebox.edge.ui.listing import list_route
from sagebox.edge.ui.pages import FamilyPages, PageContext, PageRoute
from sagebox.edge.ui.session import ConsoleSessions, Session
from sagebox.service_models import service_model
from sagebox.services.access_keys import AccessKeyService, CachedAccessKeys
from sagebox.services.platform import Platform

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC_PREFIX = "/ui/static/"
MAX_UPLOAD_FILES = 1
MAX_FORM_FIELDS = 20
# One module per family (pages/__init__.py describes the pattern); the order is the menu's.
FAMILIES = (
    "home",
    "training",
    "tuning",
    "processing",
    "transform",
    "hosting",
    "registry",
    "automl",
    "monitoring",
    "pipelines",
    "experiments",
    "lineage",
    "notebooks",
    "s3",
    "signin",
)
NOT_FOUND_CODES = ("ResourceNotFound", "ResourceNotFoundException", "NoSuchBucket", "NoSuchKey")
SECURITY_HEADERS = {
    # Scripts, styles and images from this server only: no inline script runs.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class CompiledRoute:
    def __init__(self, route: PageRoute) -> None:
        self.route = route
        self.regex, _, self.convertors = compile_path(route.path)

    def match(self, path: str) -> dict[str, Any] | None:
        found = self.regex.match(path)
        if found is None:
            return None
        return {
            key: self.convertors[key].convert(value) for key, value in found.groupdict().items()
        }


class Console:
    """Serves /ui/ for one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        settings = platform.settings
        keys = (
            CachedAccessKeys(AccessKeyService(platform.store, settings.account_id))
            if settings.auth_required
            else None
        )
        self.sessions = ConsoleSessions(settings.home, keys)
        self.static = StaticFiles(directory=HERE / "static")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(when=when, dig=dig, status_class=status_class)
        self.env.globals.update(dig=dig)
        self.families: list[FamilyPages] = [
            importlib.import_module(f"sagebox.edge.ui.pages.{name}").PAGES for name in FAMILIES
        ]
        routes = [list_route(page) for family in self.families for page in family.lists]
        routes += [route for family in self.families for route in family.routes]
        self.routes = [CompiledRoute(route) for route in routes]
        self.nav = [(f.nav_title, f.nav_path) for f in self.families if f.nav_title]
        # What a page's first view would otherwise pay for once per process (compiling the
        # templates, loading botocore's models of the services the pages call), done
        # while the server starts.
        threading.Thread(target=self._warm, name="console-warm-up", daemon=True).start()

    def _warm(self) -> None:
        try:
            for name in self.env.list_templates(extensions=["html"]):
                self.env.get_template(name)
            for service in TABLES:
                service_model(service)
        except Exception:  # a cold first view is slower, never wrong
            log.warning("the console's warm-up failed", exc_info=True)

    async def handle(self, request: Request, body: bytes) -> Response:
        path = request.url.path
        if path == "/ui":
            return RedirectResponse("/ui/", status_code=308)
        if path.startswith(STATIC_PREFIX):
            response = await self._static(request, path.removeprefix(STATIC_PREFIX))
        else:
            response = await self._page(request, body)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _static(self, request: Request, relative: str) -> Response:
        if (
            request.method not in ("GET", "HEAD")
            or not re.fullmatch(r"[\w./-]+", relative)
            or ".." in relative
        ):
            return HTMLResponse("not found", status_code=404)
        response = await self.static.get_response(relative, request.scope)
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    async def _page(self, request: Request, body: bytes) -> Response:
        session = self.sessions.read(request)
        caller = await run_in_threadpool(session.caller, self.sessions.keys)
        render = self._renderer(request, session, caller)

        def error(status: int, code: str, message: str) -> Response:
            page = render("error.html", {"code": code, "error_message": message})
            return self._finish(request, session, HTMLResponse(page, status))

        found, allowed = self._route(request)
        if found is None:
            if allowed:
                return error(405, "405", "This page does not take that method.")
            return error(404, "404", "There is no such console page.")
        route, params = found
        if self.sessions.auth_required and caller is None and not route.public:
            if request.method == "GET":
                target = f"/ui/signin?next={request.url.path}"
                return self._finish(request, session, RedirectResponse(target, status_code=303))
            return error(
                403, "403", "Sign in first: this server requires an access key pair (--auth)."
            )
        form: dict[str, str] = {}
        uploads: dict[str, UploadFile] = {}
        try:
            if request.method == "POST":
                try:
                    form, uploads = await _read_form(request, body)
                except MultiPartException as exc:
                    return error(400, "400", f"The form could not be read: {exc.message}")
                if not self.sessions.csrf_valid(session, form.get("csrf")):
                    message = (
                        "The form's CSRF token is missing or stale: reload the page and try again."
                    )
                    return error(403, "403", message)
            ctx = PageContext(
                request,
                params,
                form,
                ApiCalls(self.platform, caller),
                session,
                render,
                self.sessions,
                uploads,
            )
            response = await self._answer(ctx, route, render)
        finally:
            for upload in uploads.values():
                await upload.close()
        if ctx.end_session:
            self.sessions.store(request, response, None)
            return response
        return self._finish(request, ctx.new_session or session, response)

    @staticmethod
    async def _answer(ctx: PageContext, route: PageRoute, render: Any) -> Response:
        """The handler's page, or the error page of the API error it met (its code and
        message as a client would see them) or of its own failure."""
        try:
            return await route.handler(ctx)
        except ApiFailure as failure:
            status = failure.status
            missing = failure.message.startswith("Could not find") or "not found" in failure.message
            if failure.code in NOT_FOUND_CODES or missing:
                status = 404
            context = {"code": f"{status} {failure.code}", "error_message": failure.message}
            return HTMLResponse(render("error.html", context), status if status >= 400 else 400)
        except Exception as exc:  # a page's own fault: an HTML answer, logged, never a traceback
            log.exception(
                "the console failed to serve %s %s", ctx.request.method, ctx.request.url.path
            )
            context = {
                "code": "500",
                "error_message": f"The console failed to show this page: {exc!r:.300}",
            }
            return HTMLResponse(render("error.html", context), 500)

    def _finish(self, request: Request, session: Session, response: Response) -> Response:
        self.sessions.store(request, response, session)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _route(self, request: Request) -> tuple[tuple[PageRoute, dict[str, Any]] | None, bool]:
        allowed = False
        method = "GET" if request.method == "HEAD" else request.method
        for compiled in self.routes:
            params = compiled.match(request.url.path)
            if params is None:
                continue
            if method in compiled.route.methods:
                return (compiled.route, params), True
            allowed = True
        return None, allowed

    def _renderer(self, request: Request, session: Session, caller: Any):  # noqa: ANN202 - a closure
        base = {
            "nav": self.nav,
            "path": request.url.path,
            "csrf": self.sessions.csrf_token(session),
            "auth_required": self.sessions.auth_required,
            "user": caller.key.user_name if caller is not None else None,
            "message": self.sessions.read_flash(request.query_params.get("flash", "")),
        }

        def render(template: str, context: dict[str, Any]) -> str:
            return self.env.get_template(template).render({**base, **context})

        return render


async def _read_form(request: Request, body: bytes) -> tuple[dict[str, str], dict[str, UploadFile]]:
    """A POSTed form's fields and files: URL-encoded (the edge has read the body) or
    multipart (a file upload: read here, files spooled to disk)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), {}
    fields: dict[str, str] = {}
    uploads: dict[str, UploadFile] = {}
    parsed = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_FORM_FIELDS)
    for name, item in parsed.multi_items():
        if isinstance(item, UploadFile):
            uploads[name] = item
        else:
            fields[name] = item
    return fields, uploads
