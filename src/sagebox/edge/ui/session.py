"""Who is using the console: a signed session cookie, sign-in with an access key pair, CSRF tokens.

With authentication on (--auth), the console asks once for an access key pair (the
same pairs `sagebox keys create` makes and SigV4 clients sign with), checks the secret
through the access-key service, and keeps the signed-in key's id in a session cookie:
signed with a secret kept in the server's home (so sessions survive a restart; a key
deleted or deactivated ends its sessions at the next request), HttpOnly (no script
reads it), SameSite=Strict (no other site's page sends it) and limited to /ui.
With authentication off, the cookie still carries the session id the CSRF token is
bound to. Every state-changing form carries that token; a POST without the right one is
refused, whatever the Origin rule (edge/origin.py) already let through.

itsdangerous (the signer Starlette's own sessions use) signs and dates the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge.auth import Caller
from sagebox.services.access_keys import AccessKey, CachedAccessKeys

COOKIE = "sagebox_console"
MAX_AGE_SECONDS = 12 * 3600
SECRET_FILE = "console-session.key"
FLASH_MAX_AGE_SECONDS = 60


@dataclass(frozen=True)
class Session:
    sid: str
    access_key_id: str | None
    fresh: bool  # made for this request: the response sets the cookie

    def caller(self, keys: CachedAccessKeys | None) -> Caller | None:
        if keys is None or self.access_key_id is None:
            return None
        key = keys.find(self.access_key_id)
        return Caller(key, None) if key is not None and key.active else None


def _secret(home: Path) -> bytes:
    """The signing secret, made once per home (readable by its owner only)."""
    path = home / SECRET_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    return path.read_bytes()


class ConsoleSessions:
    """Reads, issues and checks console sessions."""

    def __init__(self, home: Path, keys: CachedAccessKeys | None) -> None:
        self._secret = _secret(home)
        self._serializer = URLSafeTimedSerializer(self._secret, salt="sagebox-console-session")
        self._flashes = URLSafeTimedSerializer(self._secret, salt="sagebox-console-flash")
        self.keys = keys  # None when authentication is off

    @property
    def auth_required(self) -> bool:
        return self.keys is not None

    def read(self, request: Request) -> Session:
        value = request.cookies.get(COOKIE)
        if value:
            try:
                data = self._serializer.loads(value, max_age=MAX_AGE_SECONDS)
            except BadSignature:
                data = None
            if isinstance(data, dict) and isinstance(data.get("sid"), str):
                key = data.get("key")
                return Session(data["sid"], key if isinstance(key, str) else None, fresh=False)
        return Session(secrets.token_urlsafe(18), None, fresh=True)

    def signed_in(self, key: AccessKey) -> Session:
        """A new session (a new id: none chosen before sign-in survives it) for `key`."""
        return Session(secrets.token_urlsafe(18), key.access_key_id, fresh=True)

    def check_key_pair(self, access_key_id: str, secret_access_key: str) -> AccessKey | None:
        if self.keys is None:
            return None
        key = self.keys.find(access_key_id.strip())
        if key is None or not key.active:
            return None
        given = secret_access_key.strip().encode()
        return key if hmac.compare_digest(key.secret_access_key.encode(), given) else None

    def sign_flash(self, message: str) -> str:
        return self._flashes.dumps(message)

    def read_flash(self, token: str) -> str:
        """A message signed by `sign_flash` in the last minute, or ""."""
        try:
            message = self._flashes.loads(token, max_age=FLASH_MAX_AGE_SECONDS)
        except BadSignature:
            return ""
        return message if isinstance(message, str) else ""

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._secret, f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, session: Session, token: str | None) -> bool:
        return (
            bool(token)
            and not session.fresh
            and hmac.compare_digest(self.csrf_token(session), token or "")
        )

    def store(self, request: Request, response: Response, session: Session | None) -> None:
        """Sets the cookie for a fresh session; `None` ends the session (sign out)."""
        secure = request.url.scheme == "https"
        if session is None:
            response.delete_cookie(
                COOKIE, path="/ui", httponly=True, samesite="strict", secure=secure
            )
            return
        if not session.fresh:
            return
        value = self._serializer.dumps({"sid": session.sid, "key": session.access_key_id})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE_SECONDS,
            path="/ui",
            httponly=True,
            samesite="strict",
            secure=secure,
        )
