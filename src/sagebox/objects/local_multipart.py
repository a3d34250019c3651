"""In-progress multipart uploads of the local backend, one folder per upload.

`<root>/.uploads/<upload id>/upload.json` records the target and its settings; each part
is `part-<number>` with `part-<number>.json` (ETag, size, checksum). Parts are written
under a temporary name and renamed into place, so concurrent parts never meet.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sagebox.objects.base import (
    MAX_PART_NUMBER,
    MIN_PART_SIZE,
    PartInfo,
    PartsPage,
    UploadInfo,
    UploadsPage,
)
from sagebox.objects.checksums import StreamDigest, composite_checksum, multipart_etag
from sagebox.objects.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
    NoSuchUpload,
)
from sagebox.objects.local_files import read_json, stream_into, write_json

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def _plain_etag(etag: str) -> str:
    return etag.strip().strip('"')


class UploadArea:
    """The folder of in-progress uploads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def create(self, bucket: str, key: str, settings: dict[str, Any]) -> str:
        upload_id = uuid.uuid4().hex
        place = self.folder / upload_id
        place.mkdir()
        initiated = datetime.now(UTC).isoformat()
        write_json(
            place / "upload.json",
            {**settings, "bucket": bucket, "key": key, "initiated": initiated},
        )
        return upload_id

    def load(self, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        """The upload's record; NoSuchUpload unless it exists for exactly this bucket and key."""
        record = None
        if _UPLOAD_ID.fullmatch(upload_id or ""):
            record = read_json(self.folder / upload_id / "upload.json")
        if record is None or record.get("bucket") != bucket or record.get("key") != key:
            raise NoSuchUpload(resource=upload_id)
        return record

    def write_part(
        self,
        upload_id: str,
        record: dict[str, Any],
        part_number: int,
        body: bytes | BinaryIO,
        checksums: dict[str, str],
    ) -> str:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise InvalidArgument(
                f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
                resource=str(part_number),
            )
        algorithm = record.get("checksum_algorithm")
        digest = StreamDigest({*checksums, *([algorithm] if algorithm else [])})
        place = self.folder / upload_id
        temp = place / f".part-{part_number}-{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "wb") as out:
                stream_into(body, out, digest)
            digest.verify(checksums)
            name = f"part-{part_number:05d}"
            os.replace(temp, place / name)
        except FileNotFoundError as exc:
            raise NoSuchUpload(resource=upload_id) from exc
        finally:
            temp.unlink(missing_ok=True)
        part = {"etag": digest.etag, "size": digest.size, "md5": digest.md5.hex()}
        if algorithm:
            part["checksum"] = digest.checksums()[algorithm]
        try:
            write_json(place / f"{name}.json", part)
        except FileNotFoundError as exc:
            raise NoSuchUpload(resource=upload_id) from exc
        return digest.etag

    def assemble(
        self, upload_id: str, record: dict[str, Any], parts: list[tuple[int, str]], out: BinaryIO
    ) -> dict[str, Any]:
        """Writes the listed parts to `out`; the object's ETag, size and checksums."""
        chosen = self._check_parts(upload_id, parts)
        algorithm = record.get("checksum_algorithm")
        full_object = bool(algorithm) and record.get("checksum_type") == "FULL_OBJECT"
        digest = StreamDigest([algorithm] if full_object else [])
        for number, _ in chosen:
            with open(self.folder / upload_id / f"part-{number:05d}", "rb") as source:
                stream_into(source, out, digest)
        checksums: dict[str, str] = {}
        if full_object:
            checksums = digest.checksums()
        elif algorithm and all("checksum" in part for _, part in chosen):
            raw = [base64.b64decode(part["checksum"]) for _, part in chosen]
            checksums = {algorithm: composite_checksum(algorithm, raw)}
        return {
            "etag": multipart_etag([bytes.fromhex(part["md5"]) for _, part in chosen]),
            "size": digest.size,
            "checksums": checksums,
            "parts_count": len(chosen),
        }

    def _check_parts(
        self, upload_id: str, parts: list[tuple[int, str]]
    ) -> list[tuple[int, dict[str, Any]]]:
        if not parts:
            raise MalformedXML(
                "The XML you provided was not well-formed or did not validate against our "
                "published schema: a multipart upload must name at least one part."
            )
        numbers = [number for number, _ in parts]
        if any(later <= earlier for earlier, later in itertools.pairwise(numbers)):
            raise InvalidPartOrder(resource=upload_id)
        chosen = []
        for number, etag in parts:
            part = read_json(self.folder / upload_id / f"part-{number:05d}.json")
            if part is None or _plain_etag(part["etag"]) != _plain_etag(etag):
                raise InvalidPart(resource=f"part {number}")
            chosen.append((number, part))
        for number, part in chosen[:-1]:
            if part["size"] < MIN_PART_SIZE:
                raise EntityTooSmall(
                    f"Your proposed upload is smaller than the minimum allowed object size: "
                    f"part {number} has {part['size']} bytes; every part but the last must "
                    f"have at least {MIN_PART_SIZE} bytes.",
                    resource=f"part {number}",
                )
        return chosen

    def list_parts(
        self, upload_id: str, record: dict[str, Any], max_parts: int, marker: int
    ) -> PartsPage:
        place = self.folder / upload_id
        numbers = sorted(
            int(path.stem[len("part-") :])
            for path in place.glob("part-*.json")
            if path.stem[len("part-") :].isdigit()
        )
        after = [number for number in numbers if number > marker]
        parts = []
        for number in after[:max_parts]:
            path = place / f"part-{number:05d}.json"
            part = read_json(path)
            if part is None:  # written since the folder was read, or the upload aborted
                continue
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
            checksums = {}
            if record.get("checksum_algorithm") and "checksum" in part:
                checksums[record["checksum_algorithm"]] = part["checksum"]
            parts.append(PartInfo(number, part["etag"], part["size"], modified, checksums))
        truncated = len(after) > max_parts
        return PartsPage(
            parts,
            truncated,
            parts[-1].number if truncated and parts else None,
            record.get("checksum_algorithm"),
            record.get("checksum_type"),
        )

    def list_uploads(
        self, bucket: str, prefix: str, max_uploads: int, key_marker: str, upload_id_marker: str
    ) -> UploadsPage:
        """A scan of every upload's record: uploads in progress are few and short-lived."""
        found = []
        for place in self.folder.iterdir():
            record = read_json(place / "upload.json") if _UPLOAD_ID.fullmatch(place.name) else None
            if record is None or record.get("bucket") != bucket:
                continue
            if not str(record.get("key", "")).startswith(prefix):
                continue
            found.append((record["key"].encode(), record["initiated"], place.name, record))
        found.sort()
        marker = key_marker.encode()
        if key_marker and upload_id_marker:
            position = next(
                (
                    i
                    for i, (k, _, upload, _) in enumerate(found)
                    if (k, upload) == (marker, upload_id_marker)
                ),
                None,
            )
            if position is None:  # an unknown upload id: S3 starts after the key
                found = [item for item in found if item[0] > marker]
            else:
                found = found[position + 1 :]
        elif key_marker:
            found = [item for item in found if item[0] > marker]
        chosen = [
            UploadInfo(
                record["key"],
                upload,
                datetime.fromisoformat(initiated),
                record.get("checksum_algorithm"),
                record.get("checksum_type"),
            )
            for _, initiated, upload, record in found[:max_uploads]
        ]
        truncated = len(found) > max_uploads
        last = chosen[-1] if truncated and chosen else None
        return UploadsPage(
            chosen, truncated, last.key if last else None, last.upload_id if last else None
        )

    def discard(self, upload_id: str) -> None:
        if _UPLOAD_ID.fullmatch(upload_id or ""):
            shutil.rmtree(self.folder / upload_id, ignore_errors=True)
