"""`sagebox keys create | list | delete`: the access keys a server with --auth accepts.

They live in the metadata store named by the same settings as `sagebox serve`
(--home, SAGEBOX_HOME, SAGEBOX_DATABASE_URL), so a running server sees a new key at
once and stops accepting a deleted one within seconds.
"""

from __future__ import annotations

import argparse
import sys

from sagebox.cli.private_home import make_home_private
from sagebox.config import Settings
from sagebox.services.access_keys import DEFAULT_USER, AccessKeyError, AccessKeyService
from sagebox.store import MetadataStore


def run_keys(settings: Settings, command: str, args: argparse.Namespace) -> int:
    make_home_private(settings)
    store = MetadataStore(settings.resolved_database_url)
    try:
        keys = AccessKeyService(store, settings.account_id)
        if command == "create":
            key = keys.create(args.user or DEFAULT_USER)
            print(f"AccessKeyId: {key.access_key_id}")
            print(f"SecretAccessKey: {key.secret_access_key}")
            print(f"UserName: {key.user_name}")
            print(
                "sagebox keys: keep the secret now, it is not shown again; use the pair as "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or with "
                "`sagebox env --access-key-id ... --secret-access-key ...`",
                file=sys.stderr,
            )
            return 0
        if command == "list":
            print(f"{'AccessKeyId':<22}{'UserName':<24}{'Status':<10}CreateDate")
            for key in keys.list():
                created = key.created.strftime("%Y-%m-%dT%H:%M:%SZ")
                print(f"{key.access_key_id:<22}{key.user_name:<24}{key.status:<10}{created}")
            return 0
        if command == "delete":
            keys.delete(args.access_key_id)
            print(f"deleted access key {args.access_key_id}")
            return 0
        return 2
    except AccessKeyError as exc:
        print(f"sagebox keys: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
