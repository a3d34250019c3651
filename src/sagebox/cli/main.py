"""The `sagebox` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sagebox.config import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sagebox", description="The SageMaker platform on your own machine.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the SageMaker, S3 and STS APIs on one local port")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port; 0 picks a free one and prints it (default 8080)")
    serve.add_argument("--home", type=Path, default=None, help="folder for the database, objects and jobs (default ./.sagebox)")
    serve.add_argument("--max-concurrent-jobs", type=int, default=None, help="jobs run at once; the rest queue")
    serve.add_argument(
        "--executor",
        default=None,
        metavar="URL",
        help="where job hosts run: local (default) or a Ray cluster, ray://HOST:PORT or ray://auto, "
        "optionally ?resource_scale=F (SAGEBOX_EXECUTOR)",
    )
    serve.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="metadata store, an SQLAlchemy URL such as postgresql://user@host/db "
        "(default SQLite under --home; SAGEBOX_DATABASE_URL)",
    )
    serve.add_argument(
        "--objects",
        default=None,
        metavar="URL",
        help="object store: file:///folder (default <home>/objects) or s3://[BUCKET-PREFIX][?endpoint_url=URL] "
        "(SAGEBOX_OBJECTS_URL)",
    )
    serve.add_argument("--log-level", default="warning", help="uvicorn access log level")
    serve.add_argument(
        "--auth",
        action="store_const",
        const="sigv4",
        default=None,
        help="require SigV4-signed requests with a key from `sagebox keys create` (SAGEBOX_AUTH=sigv4)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a Host name to serve besides the loopback names and the bound address; repeatable "
        "(SAGEBOX_ALLOWED_HOSTS, comma-separated)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="a browser origin (scheme://host[:port]) allowed to send requests that change state; "
        "repeatable (SAGEBOX_CORS_ORIGINS, comma-separated)",
    )
    serve.add_argument(
        "--insecure",
        action="store_const",
        const=True,
        default=None,
        help="allow listening on a non-loopback address without --auth (SAGEBOX_INSECURE=1)",
    )

    keys = commands.add_parser("keys", help="manage the access keys a server started with --auth accepts")
    keys.add_argument("--home", type=Path, default=None, help="the server's home folder (default ./.sagebox)")
    # --home also after the subcommand (`sagebox keys list --home DIR`); SUPPRESS keeps a
    # subcommand from resetting a --home given before it.
    home_here = argparse.ArgumentParser(add_help=False)
    home_here.add_argument("--home", type=Path, default=argparse.SUPPRESS, help="the server's home folder")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser(
        "create", parents=[home_here], help="create a key pair and print it (the secret only this once)"
    )
    create.add_argument("--user", default=None, help="the IAM-style user name the key signs as (default sagebox)")
    key_commands.add_parser("list", parents=[home_here], help="list the keys (never their secrets)")
    delete = key_commands.add_parser("delete", parents=[home_here], help="delete a key")
    delete.add_argument("access_key_id", metavar="KEYID")

    env = commands.add_parser(
        "env", help='print the exports that point AWS clients and the SageMaker SDK at a server: eval "$(sagebox env)"'
    )
    env.add_argument("--host", default=None, help="the server's address (default 127.0.0.1)")
    env.add_argument("--port", type=int, default=None, help="the server's port (default 8080)")
    env.add_argument("--endpoint-url", default=None, help="the server's URL, instead of --host and --port")
    env.add_argument("--home", type=Path, default=None, help="where to write the SDK config file (default ./.sagebox)")
    env.add_argument("--bucket", default=None, help="the SDK's default bucket, created if missing (default sagebox-default)")
    env.add_argument("--access-key-id", default=None, help="the access key to export (a server with --auth needs one)")
    env.add_argument("--secret-access-key", default=None, help="the secret of --access-key-id")
    env.add_argument(
        "--user",
        default=None,
        help="when the server requires auth and no key is given: export the newest key of this user "
        "from the home's store, creating one if it has none (default sagebox)",
    )

    endpoint = argparse.ArgumentParser(add_help=False)
    endpoint.add_argument(
        "--endpoint-url", default=None, help="the server (default $AWS_ENDPOINT_URL, else http://127.0.0.1:8080)"
    )
    job_kind = argparse.ArgumentParser(add_help=False)
    job_kind.add_argument(
        "--kind", choices=("training", "processing", "transform"), default="training", help="the job's kind"
    )
    ls = commands.add_parser("ls", parents=[endpoint], help="list resources of a kind; without one, what is running")
    ls.add_argument("kind", nargs="?", default=None, help="training-jobs, tuning-jobs, endpoints, models, ...")
    ls.add_argument("--name-contains", default=None)
    ls.add_argument("--status", default=None, help="StatusEquals, e.g. InProgress")
    ls.add_argument("--max", type=int, default=50, help="at most this many (default 50)")
    logs = commands.add_parser("logs", parents=[endpoint, job_kind], help="print a job's log")
    logs.add_argument("job")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until the job ends")
    wait = commands.add_parser("wait", parents=[endpoint, job_kind], help="print a job's progress until it ends")
    wait.add_argument("job")
    wait.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds (exit 3)")
    opener = commands.add_parser("open", parents=[endpoint], help="open the console (at KIND[/NAME]) in a browser")
    opener.add_argument("resource", nargs="?", default=None, help="e.g. training-jobs/my-job; default: the overview")
    opener.add_argument("--print", dest="print_only", action="store_true", help="only print the page's URL")

    demo = commands.add_parser("demo", help="train XGBoost end to end against a temporary server")
    demo.add_argument("--keep", action="store_true", help="keep the temporary home folder")
    demo.add_argument("--tuning", action="store_true", help="also run a small hyperparameter tuning job")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except SettingsError as exc:
        print(f"sagebox: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from sagebox.cli.serve import serve

        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            home=args.home,
            max_concurrent_jobs=args.max_concurrent_jobs,
            executor=args.executor,
            database_url=args.store,
            objects_url=args.objects,
            auth=args.auth,
            allowed_hosts=args.allowed_host,
            cors_origins=args.cors_origin,
            insecure=args.insecure,
        )
        return serve(settings, log_level=args.log_level)
    if args.command == "keys":
        from sagebox.cli.keys import run_keys

        return run_keys(Settings.from_env(home=args.home), args.keys_command, args)
    if args.command == "env":
        from sagebox.cli.env import DEFAULT_BUCKET, run_env

        settings = Settings.from_env(host=args.host, port=args.port, home=args.home)
        if (args.access_key_id is None) != (args.secret_access_key is None):
            print("sagebox env: give --access-key-id and --secret-access-key together", file=sys.stderr)
            return 2
        given = (args.access_key_id, args.secret_access_key) if args.access_key_id else None
        return run_env(settings, args.endpoint_url, args.bucket or DEFAULT_BUCKET, given, args.user)
    if args.command in ("ls", "logs", "wait", "open"):
        from sagebox.cli.console_commands import run

        return run(args)
    if args.command == "demo":
        from sagebox.cli.demo import run_demo

        return run_demo(keep=args.keep, tuning=args.tuning)
    return 2


if __name__ == "__main__":
    sys.exit(main())
