"""Where the objects of an S3Prefix land below a job's local folder.

The path below the folder is the key relative to the prefix when the prefix ends at a
folder boundary (`s3://b/data` or `s3://b/data/` gives `data/x.csv` -> `x.csv`); a URI
naming one object gives its file name; a prefix ending inside a name (`s3://b/data/part`)
keeps the path relative to the prefix's folder (`part-0.csv`). Folder markers (keys
ending in "/") are skipped.
"""

from __future__ import annotations

from sagebox.objects.base import ObjectStore
from sagebox.objects.uris import parse_s3_uri


def relative_path(prefix: str, key: str) -> str:
    """The local path, relative to the channel or input folder, of `key` matched by `prefix`."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    if prefix == "" or prefix.endswith("/") or key[len(prefix)] == "/":
        return key[len(prefix) :].lstrip("/")
    return key[prefix.rfind("/") + 1 :]


def prefix_entries(objects: ObjectStore, uri: str) -> list[tuple[str, str]]:
    """(object URI, relative local path) of every object under the S3 prefix `uri`."""
    bucket, prefix = parse_s3_uri(uri)
    return [
        (f"s3://{bucket}/{info.key}", relative_path(prefix, info.key))
        for info in objects.iter_objects(uri)
        if not info.key.endswith("/")
    ]
