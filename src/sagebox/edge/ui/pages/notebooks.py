"""Notebook instances: the list, and Open (CreatePresignedNotebookInstanceUrl, then off to the
instance's JupyterLab, as SageMaker's console does)."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

INSTANCES = ListPage(
    path="/ui/notebook-instances",
    title="Notebook instances",
    operation="ListNotebookInstances",
    member="NotebookInstances",
    columns=(
        Column("Notebook instance", "NotebookInstanceName"),
        Column("Status", "NotebookInstanceStatus", "status"),
        Column("Open JupyterLab", "Url", link="/ui/notebook-instances/{NotebookInstanceName}/open"),
        Column("Instance type", "InstanceType"),
        Column("Lifecycle configuration", "NotebookInstanceLifecycleConfigName"),
        Column("Created", "CreationTime", "time"),
    ),
    statuses=model_enum("ListNotebookInstances", "StatusEquals"),
    sorts=model_enum("ListNotebookInstances", "SortBy"),
)


async def open_instance(ctx: PageContext) -> Response:
    """The presigned URL any client would get, followed (the Lab's own token in it)."""
    answer = await ctx.api(
        "CreatePresignedNotebookInstanceUrl", NotebookInstanceName=ctx.params["name"]
    )
    return RedirectResponse(answer["AuthorizedUrl"], status_code=303)


PAGES = FamilyPages(
    "Notebooks",
    "/ui/notebook-instances",
    lists=(INSTANCES,),
    routes=(PageRoute("/ui/notebook-instances/{name}/open", open_instance),),
)
