"""Model Monitor: monitoring schedules, and a schedule's executions, each linked to its
processing job, whose page shows the execution's report (statistics, violations)."""

from __future__ import annotations

from starlette.responses import Response

from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

LIST = ListPage(
    path="/ui/monitoring-schedules",
    title="Monitoring schedules",
    operation="ListMonitoringSchedules",
    member="MonitoringScheduleSummaries",
    columns=(
        Column(
            "Name",
            "MonitoringScheduleName",
            link="/ui/monitoring-schedules/{MonitoringScheduleName}",
        ),
        Column("Status", "MonitoringScheduleStatus", "status"),
        Column("Type", "MonitoringType"),
        Column("Endpoint", "EndpointName", link="/ui/endpoints/{EndpointName}"),
        Column("Created", "CreationTime", "time"),
    ),
    statuses=model_enum("ListMonitoringSchedules", "StatusEquals"),
    sorts=model_enum("ListMonitoringSchedules", "SortBy"),
)


async def schedule_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    described = await ctx.api("DescribeMonitoringSchedule", MonitoringScheduleName=name)
    answer = await ctx.api(
        "ListMonitoringExecutions",
        MonitoringScheduleName=name,
        SortBy="ScheduledTime",
        SortOrder="Descending",
        MaxResults=50,
        NextToken=ctx.query("token") or None,
    )
    return ctx.render(
        "monitoring_schedule.html",
        schedule=described,
        executions=answer.get("MonitoringExecutionSummaries", []),
        next_token=answer.get("NextToken"),
    )


PAGES = FamilyPages(
    "Monitoring",
    "/ui/monitoring-schedules",
    lists=(LIST,),
    routes=(PageRoute("/ui/monitoring-schedules/{name}", schedule_page),),
)
