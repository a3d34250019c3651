"""The console's pages, one module per resource family, all in one pattern.

A family's module defines `PAGES`, a `FamilyPages`: its navigation entry, its list
pages (declared: the List operation, the summaries member, the columns, the filters and
sorts the List operation accepts; the console renders them all with one template and
pages them on the server with NextToken), and its other routes (detail pages, actions,
live-update JSON), each an `async (PageContext) -> Response` handler that reads through
`ctx.api` (the operations any client calls, calls.py) and renders a template that
extends layout.html. console.py collects `PAGES` from the modules named in `FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sagebox.edge.ui.calls import ApiCalls
from sagebox.edge.ui.session import ConsoleSessions, Session


@dataclass
class PageContext:
    """What a handler gets: the request, its path parameters and form, the API as the
    signed-in user, and `render` for a template with the layout's context."""

    request: Request
    params: Mapping[str, str]
    form: Mapping[str, str]
    api: ApiCalls
    session: Session
    render_template: Callable[[str, dict[str, Any]], str]
    sessions: ConsoleSessions
    uploads: Mapping[str, UploadFile] = field(default_factory=dict)  # a multipart form's files
    new_session: Session | None = None  # set by sign-in; None keeps the current one
    end_session: bool = False  # set by sign-out

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def render(self, template: str, http_status: int = 200, **context: Any) -> Response:
        # not `status`: pages pass a resource's status to their template under that name
        return HTMLResponse(self.render_template(template, context), status_code=http_status)

    def redirect(self, path: str, msg: str = "", **query: str) -> Response:
        """303 to a console page (after a form: the browser GETs it); `msg` is shown there
        once, signed so that no link can make the console say something it did not."""
        if not path.startswith("/ui"):
            path = "/ui/"
        if msg:
            query["flash"] = self.sessions.sign_flash(msg)
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query)
        return RedirectResponse(path, status_code=303)


Handler = Callable[[PageContext], Awaitable[Response]]


@dataclass(frozen=True)
class PageRoute:
    path: str  # Starlette path syntax: /ui/training-jobs/{name}
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    public: bool = False  # served before sign-in (the sign-in page itself)


@dataclass(frozen=True)
class Column:
    title: str
    member: str  # a dotted path into one summary
    kind: str = "text"  # text | time | status | number | weights
    link: str | None = None  # a console path with {Member} fields filled from the summary

    def href(self, row: Mapping[str, Any]) -> str | None:
        if self.link is None:
            return None
        fields = {
            key: quote(str(value), safe="")
            for key, value in row.items()
            if isinstance(value, str | int)
        }
        try:
            return self.link.format(**fields)
        except KeyError:
            return None


@dataclass(frozen=True)
class ListPage:
    """A List operation shown as a table, paged on the server."""

    path: str
    title: str
    operation: str
    member: str
    columns: tuple[Column, ...]
    statuses: tuple[str, ...] = ()  # StatusEquals values; empty: the operation has none
    sorts: tuple[str, ...] = ()  # SortBy values the operation accepts
    name_filter: bool = True  # NameContains
    page_size: int = 50
    intro: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (label, console path) shown above the table


@dataclass(frozen=True)
class FamilyPages:
    nav_title: str
    nav_path: str
    lists: tuple[ListPage, ...] = ()
    routes: tuple[PageRoute, ...] = field(default_factory=tuple)


def model_enum(operation: str, member: str) -> tuple[str, ...]:
    """The values botocore's SageMaker model allows for a List operation's member (SortBy,
    StatusEquals), so list pages offer exactly what the API accepts."""
    from sagebox.service_models import service_model

    shape = service_model("sagemaker").operation_model(operation).input_shape
    target = shape.members.get(member) if shape is not None else None
    return tuple(getattr(target, "enum", None) or ())
