"""The Lab's sign-in for presigned URLs: Jupyter's identity provider, which takes the Lab's
own token (sagebox's, for its health checks), also takes the token of a URL that
CreatePresignedNotebookInstanceUrl issued, until the URL expires. The tokens are in the
JSON file named by SAGEBOX_PRESIGNED_TOKENS ({token: {"expires": t, "session_ends": t}},
epoch seconds), which sagebox writes; the login cookie a presigned token gets expires
when the session SessionExpirationDurationInSeconds asked for ends.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User

TOKENS_VARIABLE = "SAGEBOX_PRESIGNED_TOKENS"


def _issued() -> dict[str, Any]:
    path = os.environ.get(TOKENS_VARIABLE)
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            found = json.load(stream)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


class PresignedTokenIdentityProvider(IdentityProvider):
    async def get_user_token(self, handler: Any) -> User | None:
        user = await super().get_user_token(handler)
        if user is not None:
            return user
        token = self.get_token(handler)
        grant = _issued().get(token) if token else None
        if not isinstance(grant, dict) or float(grant.get("expires", 0)) <= time.time():
            return None
        handler._sagebox_session_ends = float(grant.get("session_ends", 0))
        return self.generate_anonymous_user(handler)

    def set_login_cookie(self, handler: Any, user: User) -> None:
        ends = getattr(handler, "_sagebox_session_ends", None)
        if ends:
            expires = datetime.datetime.fromtimestamp(ends, tz=datetime.timezone.utc)  # noqa: UP017 - any Python the Lab runs with
            shared = self.cookie_options
            self.cookie_options = {**shared, "expires": expires}  # this response's cookie only
            try:
                super().set_login_cookie(handler, user)
            finally:
                self.cookie_options = shared
            return
        super().set_login_cookie(handler, user)
