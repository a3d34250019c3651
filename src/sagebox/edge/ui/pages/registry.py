"""The model registry: groups, their versions, and approving or rejecting a version (UpdateModelPackage)."""

from __future__ import annotations

from starlette.responses import Response

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

DECISIONS = ("Approved", "Rejected", "PendingManualApproval")

GROUPS = ListPage(
    path="/ui/model-package-groups",
    title="Model package groups",
    operation="ListModelPackageGroups",
    member="ModelPackageGroupSummaryList",
    columns=(
        Column(
            "Group",
            "ModelPackageGroupName",
            link="/ui/model-package-groups/{ModelPackageGroupName}",
        ),
        Column("Status", "ModelPackageGroupStatus", "status"),
        Column("Description", "ModelPackageGroupDescription"),
        Column("Created", "CreationTime", "time"),
    ),
    sorts=model_enum("ListModelPackageGroups", "SortBy"),
)


async def group_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    group = await ctx.api("DescribeModelPackageGroup", ModelPackageGroupName=name)
    answer = await ctx.api(
        "ListModelPackages",
        ModelPackageGroupName=name,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=100,
        NextToken=ctx.query("token") or None,
    )
    return ctx.render(
        "package_group.html",
        group=group,
        packages=answer.get("ModelPackageSummaryList", []),
        next_token=answer.get("NextToken"),
    )


async def package_page(ctx: PageContext) -> Response:
    arn = ctx.query("arn")
    if not arn:
        raise ApiFailure("ValidationException", "Name a model package with ?arn=<ModelPackageArn>.")
    package = await ctx.api("DescribeModelPackage", ModelPackageName=arn)
    return ctx.render("model_package.html", package=package)


async def decide(ctx: PageContext) -> Response:
    """Approve or reject a version: the UpdateModelPackage any client sends."""
    arn, decision = ctx.form.get("arn", ""), ctx.form.get("status", "")
    if decision not in DECISIONS:
        raise ApiFailure(
            "ValidationException",
            f"ModelApprovalStatus must be one of {', '.join(DECISIONS)}, got {decision!r}.",
        )
    request = {"ModelPackageArn": arn, "ModelApprovalStatus": decision}
    if ctx.form.get("description", "").strip():
        request["ApprovalDescription"] = ctx.form["description"].strip()
    await ctx.api("UpdateModelPackage", **request)
    back = ctx.form.get("back", "")
    message = f"UpdateModelPackage: {arn.rsplit('/', 2)[-2:][0]} version {arn.rsplit('/', 1)[-1]} is now {decision}."
    return ctx.redirect(
        back if back.startswith("/ui/") else "/ui/model-package-groups", msg=message
    )


PAGES = FamilyPages(
    "Registry",
    "/ui/model-package-groups",
    lists=(GROUPS,),
    routes=(
        PageRoute("/ui/model-package-groups/{name}", group_page),
        PageRoute("/ui/model-package", package_page),
        PageRoute("/ui/model-package/approval", decide, methods=("POST",)),
    ),
)
