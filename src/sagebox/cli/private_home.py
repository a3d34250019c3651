"""The home folder and everything sagebox writes there are private to the server's user.

The process umask becomes 0o077, so every folder sagebox (and each job it starts, which
inherits the umask) creates is 0700 and every file 0600, the object store's temporary
files and renames, the SQLite database and its -wal and -shm files included. The
home folder itself is set to 0700, which also closes whatever an earlier version left
readable inside it; a SQLite file or an object folder configured outside the home is
made private too.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from sagebox.config import Settings

PRIVATE_UMASK = 0o077
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_home_private(settings: Settings) -> None:
    """Sets the umask and makes the home, the SQLite files and the object folder private."""
    os.umask(PRIVATE_UMASK)
    settings.home.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.home, PRIVATE_FOLDER)
    database = sqlite_path(settings)
    if database is not None:
        for suffix in _SQLITE_SUFFIXES:
            path = database.with_name(database.name + suffix)
            if path.exists():
                os.chmod(path, PRIVATE_FILE)
    objects_url = urlparse(settings.resolved_objects_url)
    if objects_url.scheme == "file":
        folder = Path(objects_url.path)
        if folder.is_dir():
            os.chmod(folder, PRIVATE_FOLDER)


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file of the metadata store; None for a server database."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database).expanduser().resolve()
