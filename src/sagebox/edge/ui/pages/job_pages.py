"""The pages of a job family with no page of its own: its list, and a detail page with the
Describe answer, the log tail (refreshed while the job runs) and Stop. Processing and
transform jobs use it; a family outgrows it by getting its own module and template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum
from sagebox.edge.ui.pages.training import log_events

LOG_TAIL_LINES = 200


@dataclass(frozen=True)
class JobKind:
    kind: str  # ProcessingJob
    title: str  # Processing jobs
    slug: str  # processing-jobs
    log_group: str
    end_member: str  # ProcessingEndTime
    # more for the page from the Describe answer (a processing job's report), or None
    extras: Callable[[PageContext, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None

    @property
    def name_member(self) -> str:
        return f"{self.kind}Name"

    @property
    def status_member(self) -> str:
        return f"{self.kind}Status"


def job_family(job: JobKind, nav_title: str) -> FamilyPages:
    listing = ListPage(
        path=f"/ui/{job.slug}",
        title=job.title,
        operation=f"List{job.kind}s",
        member=f"{job.kind}Summaries",
        columns=(
            Column("Name", job.name_member, link=f"/ui/{job.slug}/{{{job.name_member}}}"),
            Column("Status", job.status_member, "status"),
            Column("Created", "CreationTime", "time"),
            Column("Ended", job.end_member, "time"),
        ),
        statuses=model_enum(f"List{job.kind}s", "StatusEquals"),
        sorts=model_enum(f"List{job.kind}s", "SortBy"),
    )

    async def page(ctx: PageContext) -> Response:
        name = ctx.params["name"]
        described = await ctx.api(f"Describe{job.kind}", **{job.name_member: name})
        events = await log_events(ctx, job.log_group, name)
        status = described[job.status_member]
        extras = await job.extras(ctx, described) if job.extras else {}
        return ctx.render(
            "job.html",
            **extras,
            job=described,
            kind=job,
            name=name,
            status=status,
            running=status in ("InProgress", "Stopping"),
            log=[str(e["message"]) for e in events[-LOG_TAIL_LINES:]],
        )

    async def stop(ctx: PageContext) -> Response:
        name = ctx.params["name"]
        await ctx.api(f"Stop{job.kind}", **{job.name_member: name})
        return ctx.redirect(f"/ui/{job.slug}/{name}", msg=f"Stop{job.kind} sent for {name}.")

    return FamilyPages(
        nav_title,
        f"/ui/{job.slug}",
        lists=(listing,),
        routes=(
            PageRoute(f"/ui/{job.slug}/{{name}}", page),
            PageRoute(f"/ui/{job.slug}/{{name}}/stop", stop, methods=("POST",)),
        ),
    )
