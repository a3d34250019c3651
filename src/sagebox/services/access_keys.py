"""Access keys: the credentials a server with SigV4 authentication accepts.

Each key is one record of kind "AccessKey" in the metadata store's resource table,
named by its access key id. Its document holds the secret (the server needs it to
recompute signatures, as AWS does) and the identity it signs for: an IAM-style user
name, the user's unique id and the key's creation time. The record's status is
AWS's key status, "Active" or "Inactive".
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sagebox.store import MetadataStore
from sagebox.store.errors import NotFound
from sagebox.store.resources import ResourceRecord

KIND = "AccessKey"
ACTIVE = "Active"
INACTIVE = "Inactive"
DEFAULT_USER = "sagebox"
# The characters of AWS's long-term access key ids after "AKIA" (base32's alphabet).
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}")


class AccessKeyError(ValueError):
    """A key operation was asked for something that cannot be done; says what and why."""


@dataclass(frozen=True)
class AccessKey:
    """One access key pair and the identity it signs for."""

    access_key_id: str
    secret_access_key: str
    user_name: str
    user_id: str
    status: str
    created: datetime

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def user_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:user/{self.user_name}"


def new_access_key_id() -> str:
    """An AKIA-style id: 20 characters, "AKIA" and 16 of base32's alphabet."""
    return "AKIA" + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    """40 characters of base64 (30 random bytes), the length of AWS's secrets."""
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")


def user_id_for(user_name: str) -> str:
    """A stable AIDA-style unique id for a user name, as IAM gives each user one."""
    digest = base64.b32encode(hashlib.sha256(user_name.encode("utf-8")).digest()).decode("ascii")
    return "AIDA" + digest[:17]


class AccessKeyService:
    """Creates, finds, lists and deletes access keys in one metadata store."""

    def __init__(self, store: MetadataStore, account_id: str) -> None:
        self._records = store.resources(KIND)
        self._account_id = account_id

    def create(self, user_name: str = DEFAULT_USER) -> AccessKey:
        if not _USER_NAME.fullmatch(user_name):
            raise AccessKeyError(
                f"user name {user_name!r} is not valid: use 1 to 64 letters, digits and _+=,.@-"
            )
        now = datetime.now(UTC)
        key = AccessKey(
            access_key_id=new_access_key_id(),
            secret_access_key=new_secret_access_key(),
            user_name=user_name,
            user_id=user_id_for(user_name),
            status=ACTIVE,
            created=now,
        )
        self._records.create(
            ResourceRecord(
                kind=KIND,
                name=key.access_key_id,
                # Access keys have no ARN in AWS; this one only keeps the column unique.
                arn=f"arn:sagebox:iam::{self._account_id}:access-key/{key.access_key_id}",
                status=ACTIVE,
                creation_time=now,
                last_modified_time=now,
                document={
                    "SecretAccessKey": key.secret_access_key,
                    "UserName": key.user_name,
                    "UserId": key.user_id,
                    "CreateDate": now.isoformat(),
                },
            )
        )
        return key

    def get(self, access_key_id: str) -> AccessKey | None:
        record = self._records.get(access_key_id)
        return None if record is None else _key(record)

    def list(self) -> list[AccessKey]:
        """Every key, oldest first."""
        found: list[AccessKey] = []
        token: str | None = None
        while True:
            records, token = self._records.list(
                sort_by="CreationTime", sort_order="Ascending", max_results=100, next_token=token
            )
            found.extend(_key(record) for record in records)
            if token is None:
                return found

    def newest_active(self, user_name: str) -> AccessKey | None:
        keys = [key for key in self.list() if key.user_name == user_name and key.active]
        return keys[-1] if keys else None

    def delete(self, access_key_id: str) -> None:
        try:
            self._records.delete(access_key_id)
        except NotFound as exc:
            raise AccessKeyError(f"there is no access key {access_key_id!r}") from exc


def _key(record: ResourceRecord) -> AccessKey:
    document = record.document
    return AccessKey(
        access_key_id=record.name,
        secret_access_key=str(document["SecretAccessKey"]),
        user_name=str(document["UserName"]),
        user_id=str(document.get("UserId") or user_id_for(str(document["UserName"]))),
        status=record.status,
        created=record.creation_time,
    )


class CachedAccessKeys:
    """Key lookups for the request path: found keys are remembered for `ttl_seconds`, so a
    deleted key stops working within that time; unknown ids are always looked up again,
    so a key created by `sagebox keys create` works at once."""

    def __init__(self, keys: AccessKeyService, ttl_seconds: float = 5.0) -> None:
        self._keys = keys
        self._ttl = ttl_seconds
        self._found: dict[str, tuple[float, AccessKey]] = {}
        self._lock = threading.Lock()

    def peek(self, access_key_id: str) -> AccessKey | None:
        """The key if it was looked up less than `ttl_seconds` ago; never reads the store."""
        with self._lock:
            cached = self._found.get(access_key_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        return None

    def find(self, access_key_id: str) -> AccessKey | None:
        """The key, from the cache or else the store (a blocking read)."""
        cached = self.peek(access_key_id)
        if cached is not None:
            return cached
        now = time.monotonic()
        key = self._keys.get(access_key_id)
        with self._lock:
            if key is None:
                self._found.pop(access_key_id, None)
            else:
                self._found[access_key_id] = (now, key)
        return key
