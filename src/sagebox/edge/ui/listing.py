"""The one list page: a List operation's summaries as a table, with its filters, sorts and NextToken paging."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sagebox.edge.ui.pages import ListPage, PageContext, PageRoute

ORDERS = ("Descending", "Ascending")


async def render_list(ctx: PageContext, page: ListPage) -> Response:
    request: dict[str, Any] = {"MaxResults": page.page_size}
    token = ctx.query("token")
    if token:
        request["NextToken"] = token
    name = ctx.query("name").strip()
    if page.name_filter and name:
        request["NameContains"] = name
    status = ctx.query("status")
    if status in page.statuses:
        request["StatusEquals"] = status
    sort = ctx.query("sort")
    if sort in page.sorts:
        request["SortBy"] = sort
    order = ctx.query("order")
    if order in ORDERS and page.sorts:
        request["SortOrder"] = order
    answer = await ctx.api(page.operation, **request)
    filters = {
        "name": name,
        "status": status if status in page.statuses else "",
        "sort": sort,
        "order": order,
    }
    return ctx.render(
        "list.html",
        page=page,
        rows=answer.get(page.member, []),
        next_token=answer.get("NextToken"),
        filters={k: v for k, v in filters.items() if v},
        paged=bool(token),
        orders=ORDERS,
    )


def list_route(page: ListPage) -> PageRoute:
    async def handler(ctx: PageContext) -> Response:
        return await render_list(ctx, page)

    return PageRoute(page.path, handler)
