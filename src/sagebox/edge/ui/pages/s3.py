"""The S3 browser: buckets, a bucket's keys by prefix ("folders"), downloads and uploads.

It reads the object store the S3 API serves (the same `ObjectStore` the S3 edge calls),
one page of keys at a time.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.pages import FamilyPages, PageContext, PageRoute
from sagebox.objects.errors import ObjectStoreError

PAGE_KEYS = 200


def _objects(ctx: PageContext):  # noqa: ANN202 - the platform's ObjectStore
    return ctx.api.platform.objects


async def _store_call(function, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except ObjectStoreError as exc:
        raise ApiFailure(exc.code, exc.message, exc.status) from exc


async def buckets(ctx: PageContext) -> Response:
    found = await _store_call(_objects(ctx).list_buckets)
    return ctx.render("s3_buckets.html", buckets=found)


async def bucket(ctx: PageContext) -> Response:
    name = ctx.params["bucket"]
    prefix = ctx.query("prefix")
    after = ctx.query("after") or None
    page = await _store_call(
        _objects(ctx).list_objects,
        name,
        prefix=prefix,
        delimiter="/",
        max_keys=PAGE_KEYS,
        start_after=after,
    )
    parts = [p for p in prefix.split("/") if p]
    crumbs = [(part, "/".join(parts[: i + 1]) + "/") for i, part in enumerate(parts)]
    last = max([o.key for o in page.objects] + list(page.common_prefixes), default=None)
    more = len(page.objects) + len(page.common_prefixes) >= PAGE_KEYS
    return ctx.render(
        "s3_bucket.html",
        bucket=name,
        prefix=prefix,
        folders=page.common_prefixes,
        objects=page.objects,
        crumbs=crumbs,
        next_after=last if more else None,
    )


async def download(ctx: PageContext) -> Response:
    name, key = ctx.params["bucket"], ctx.query("key")
    if not key:
        raise ApiFailure("ValidationException", "Name the object with ?key=<key>.")
    info, chunks = await _store_call(_objects(ctx).get_object, name, key)
    filename = key.rsplit("/", 1)[-1] or "object"
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Content-Length": str(info.size),
        "ETag": info.etag,
    }
    return StreamingResponse(
        iterate_in_threadpool(chunks), media_type="application/octet-stream", headers=headers
    )


async def upload(ctx: PageContext) -> Response:
    """A file from the browser stored as s3://bucket/<prefix><name>, as PutObject stores it."""
    name, prefix = ctx.params["bucket"], ctx.form.get("prefix", "")
    given = ctx.uploads.get("file")
    if given is None or not given.filename:
        raise ApiFailure("ValidationException", "Choose a file to upload.")
    key = prefix + (ctx.form.get("name", "").strip() or given.filename.rsplit("/", 1)[-1])
    info = await _store_call(
        _objects(ctx).put_object, name, key, given.file, content_type=given.content_type or None
    )
    query = {"prefix": prefix} if prefix else {}
    return ctx.redirect(
        f"/ui/s3/{quote(name)}", **query, msg=f"Uploaded s3://{name}/{key} ({info.size} bytes)."
    )


PAGES = FamilyPages(
    "S3",
    "/ui/s3",
    routes=(
        PageRoute("/ui/s3", buckets),
        PageRoute("/ui/s3/{bucket}", bucket),
        PageRoute("/ui/s3/{bucket}/download", download),
        PageRoute("/ui/s3/{bucket}/upload", upload, methods=("POST",)),
    ),
)
