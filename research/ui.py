"""``python -m research.ui``: the MLflow UI on the project's store, bound to 127.0.0.1.

The UI has no login: anyone who reaches its port can read, change and delete every run. Any
other address than a loopback one is refused unless ``--allow-remote`` says it is meant (and
then a warning points at MLflow's ``basic-auth`` app). A bad or busy ``--port`` is one line.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
import sys

from research.errors import EnvironmentFault
from research.track.links import MODE, UI_PORT, experiment_names, lookup, run_url
from research.track.store import check_schema, resolve_store

EXIT_USAGE, EXIT_ENVIRONMENT = 2, 1

REMOTE_REFUSED = (
    "error: --host {host} is not allowed: it serves every run, without a password, to any "
    "machine that reaches this one. Keep the default 127.0.0.1 and tunnel from elsewhere "
    "(ssh -L {port}:127.0.0.1:{port} THIS_HOST), or pass --allow-remote once the network is "
    "trusted (README: Securing the MLflow server)"
)
REMOTE_WARNING = (
    "warning: serving on {host}:{port} with no authentication: anyone who reaches this port "
    "can read, change and delete every run. For a shared server use MLflow's basic-auth app "
    "behind TLS: mlflow server --app-name basic-auth --host {host} --allowed-hosts NAME "
    "(README: Securing the MLflow server)"
)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage problem as one ``error:`` line and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        print(f"error: {message} (see python -m research.ui --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def parse_port(text: str) -> int | None:
    """``text`` as a TCP port, or None unless it is an integer in 1..65535."""
    try:
        port = int(text)
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served (busy, unknown address), or None if it can."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return f"error: --host {host} is not an address of this machine"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # as the server will: a port left in TIME_WAIT by a stopped server is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                other = _free_port(host, port)
                return (
                    f"error: port {port} on {host} is busy (another program, perhaps another "
                    f"UI, listens there); stop it or choose a free port, e.g. --port {other}"
                )
            if exc.errno == errno.EACCES:
                return f"error: port {port} needs privileges to serve; choose --port 1024..65535"
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"error: --host {host} is not an address of this machine"
            return f"error: cannot serve on {host}:{port}: {exc.strerror or exc}"
    return None


def _free_port(host: str, busy: int) -> int:
    """A free port to suggest instead of ``busy`` (the next ones first)."""
    for port in range(busy + 1, min(busy + 50, 65536)):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1" if is_loopback(host) else "", port))
            except OSError:
                continue
            return port
    return 5001 if busy != 5001 else 5002


def landing_page(store, base: str, study: str | None, run_id: str | None):
    """(the page to open, None), or (None, the error line) when ``study`` or ``run_id`` is
    not in the store. Without either: the experiments, in model-training mode."""
    if study is None and run_id is None:
        return f"{base}/#/experiments?{MODE}", None
    run = lookup(store, study=study, run_id=run_id)
    if run_id is not None:
        missing = f"error: --run {run_id}: no such run in {store.local_db}"
    else:
        names = ", ".join(experiment_names(store)) or "none yet"
        missing = f"error: --study {study}: no such study in {store.local_db}; studies: {names}"
    if run is None:
        return None, missing
    return run_url(store, run.info.experiment_id, run.info.run_id, base=base), None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m research.ui", description=__doc__)
    parser.add_argument("--port", default=str(UI_PORT), help=f"1..65535 (default {UI_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (the UI has no login: see the README)",
    )
    parser.add_argument("--root", default=None, help="project root holding mlruns/ (default cwd)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--study", default=None, help="print the link to this study's parent run")
    which.add_argument("--run", default=None, help="print the link to this run (a run id)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    port = parse_port(args.port)
    if port is None:
        print(f"error: --port={args.port} is not allowed: must be in 1..65535", file=sys.stderr)
        return EXIT_USAGE
    remote = not is_loopback(args.host)
    if remote and not args.allow_remote:
        print(REMOTE_REFUSED.format(host=args.host, port=port), file=sys.stderr)
        return EXIT_USAGE
    store = resolve_store("local", root=args.root)
    if not store.local_db.exists():
        print(
            f"error: no MLflow store at {store.local_db.parent}; run python -m research.run "
            "first or pass --root",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        check_schema(store.local_db)
    except EnvironmentFault as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    shown = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    base = f"http://{shown}:{port}"
    page, problem = landing_page(store, base, args.study, args.run)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    if remote:
        print(REMOTE_WARNING.format(host=args.host, port=port), file=sys.stderr)
    if args.study or args.run:  # the link, even if a UI already serves this port
        print(f"open: {page}")
        sys.stdout.flush()
    problem = port_problem(args.host, port)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_ENVIRONMENT
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store.tracking_uri]
    cmd += ["--host", args.host, "--port", str(port)]
    print(f"MLflow UI on {base} (store {store.tracking_uri}); Ctrl-C stops")
    if not (args.study or args.run):
        print(f"open: {page}")
    sys.stdout.flush()
    os.execv(sys.executable, cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
