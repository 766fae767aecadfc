"""``python -m research.ui``: the MLflow UI on the project's store, bound to 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import sys

from research.track.store import resolve_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.ui", description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument("--root", default=None, help="project root holding mlruns/ (default cwd)")
    args = parser.parse_args(argv)
    store = resolve_store("local", root=args.root)
    if not (store.root / "mlruns" / "mlflow.db").exists():
        print(
            f"error: no MLflow store at {store.root / 'mlruns'}; run python -m research.run "
            "first or pass --root",
            file=sys.stderr,
        )
        return 2
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        store.tracking_uri,
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(f"MLflow UI on http://{args.host}:{args.port} (store {store.tracking_uri}); Ctrl-C stops")
    os.execv(sys.executable, cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
