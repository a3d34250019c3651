"""The `sagebox` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sagebox.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sagebox", description="The SageMaker platform on your own machine.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the SageMaker, S3 and STS APIs on one local port")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port; 0 picks a free one and prints it (default 8080)")
    serve.add_argument("--home", type=Path, default=None, help="folder for the database, objects and jobs (default ./.sagebox)")
    serve.add_argument("--max-concurrent-jobs", type=int, default=None, help="jobs run at once; the rest queue")
    serve.add_argument("--log-level", default="warning", help="uvicorn access log level")

    keys = commands.add_parser("keys", help="manage the access keys a server started with --auth accepts")
    keys.add_argument("--home", type=Path, default=None, help="the server's home folder (default ./.sagebox)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key pair and print it (the secret only this once)")
    create.add_argument("--user", default=None, help="the IAM-style user name the key signs as (default sagebox)")
    key_commands.add_parser("list", help="list the keys (never their secrets)")
    delete = key_commands.add_parser("delete", help="delete a key")
    delete.add_argument("access_key_id", metavar="KEYID")

    env = commands.add_parser(
        "env", help='print the exports that point AWS clients and the SageMaker SDK at a server: eval "$(sagebox env)"'
    )
    env.add_argument("--host", default=None, help="the server's address (default 127.0.0.1)")
    env.add_argument("--port", type=int, default=None, help="the server's port (default 8080)")
    env.add_argument("--endpoint-url", default=None, help="the server's URL, instead of --host and --port")
    env.add_argument("--home", type=Path, default=None, help="where to write the SDK config file (default ./.sagebox)")
    env.add_argument("--bucket", default=None, help="the SDK's default bucket, created if missing (default sagebox-default)")

    demo = commands.add_parser("demo", help="train XGBoost end to end against a temporary server")
    demo.add_argument("--keep", action="store_true", help="keep the temporary home folder")
    demo.add_argument("--tuning", action="store_true", help="also run a small hyperparameter tuning job")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from sagebox.cli.serve import serve

        settings = Settings.from_env(
            host=args.host, port=args.port, home=args.home, max_concurrent_jobs=args.max_concurrent_jobs
        )
        serve(settings, log_level=args.log_level)
        return 0
    if args.command == "keys":
        from sagebox.cli.keys import run_keys

        return run_keys(Settings.from_env(home=args.home), args.keys_command, args)
    if args.command == "env":
        from sagebox.cli.env import DEFAULT_BUCKET, run_env

        settings = Settings.from_env(host=args.host, port=args.port, home=args.home)
        return run_env(settings, args.endpoint_url, args.bucket or DEFAULT_BUCKET)
    if args.command == "demo":
        from sagebox.cli.demo import run_demo

        return run_demo(keep=args.keep, tuning=args.tuning)
    return 2


if __name__ == "__main__":
    sys.exit(main())
