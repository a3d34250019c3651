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

from sagebox.objects.base import MAX_PART_NUMBER, MIN_PART_SIZE
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

    def discard(self, upload_id: str) -> None:
        if _UPLOAD_ID.fullmatch(upload_id or ""):
            shutil.rmtree(self.folder / upload_id, ignore_errors=True)
