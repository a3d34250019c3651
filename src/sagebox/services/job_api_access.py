"""How a job's process reaches the SageMaker API: this server's URL and credentials it accepts.

On SageMaker a processing container calls AWS with its execution role's credentials;
Amazon's own images depend on it (Clarify creates and deletes a shadow endpoint and
invokes it, reads a baseline from S3). A sagebox job gets the same ability pointed at
this server: the standard AWS SDK variables

    AWS_ENDPOINT_URL                       this server (loopback when it listens on every address)
    AWS_DEFAULT_REGION                     the server's region
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY

so unmodified boto3 code in the job, Amazon's images included, talks to sagebox. With
authentication off any key is accepted and the job gets a fixed placeholder pair. With
``--auth`` the job signs with the access key of the user ``sagebox-jobs``, which the
server creates in the metadata store the first time a job needs it (see `sagebox keys
list`; delete it to rotate, the next job gets a new one). A job's processes run as the
server's user and could read the store anyway, so one service key gives away nothing a
key per job would keep. Variables the job's own Environment sets win.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sagebox.config import Settings
from sagebox.services.access_keys import AccessKeyService
from sagebox.store import MetadataStore

JOB_USER = "sagebox-jobs"
PLACEHOLDER_KEY = ("sagebox-job", "sagebox-job")
# Variables that would make the job's AWS SDK sign with something else than the pair above.
CREDENTIAL_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


class JobApiAccess:
    """The API variables of a job's environment; one per job service, cheap to call per job."""

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        self._settings = settings
        self._keys = AccessKeyService(store, settings.account_id)
        self._lock = threading.Lock()

    def environment(self) -> dict[str, str]:
        key_id, secret = self._credentials()
        return {
            "AWS_ENDPOINT_URL": self._settings.endpoint_url,
            "AWS_DEFAULT_REGION": self._settings.region,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
        }

    def _credentials(self) -> tuple[str, str]:
        if not self._settings.auth_required:
            return PLACEHOLDER_KEY
        with self._lock:
            key = self._keys.newest_active(JOB_USER) or self._keys.create(JOB_USER)
        return key.access_key_id, key.secret_access_key


def with_api_access(
    env: Mapping[str, str], api: Mapping[str, str], own: Mapping[str, str] | None
) -> dict[str, str]:
    """A job's process environment given the API variables: credential variables the
    server itself had are left out, and the job's own Environment (`own`) still wins."""
    own = own or {}
    reached = {k: v for k, v in env.items() if k not in CREDENTIAL_VARIABLES or k in own}
    reached.update({k: v for k, v in api.items() if k not in own})
    return reached
