"""``python -m registry_sync.testing``: run the local registry in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Sequence

from registry_sync.errors import RegistrySyncError
from registry_sync.testing.server import DEFAULT_UNHEALTHY_ERROR, RegistryServer


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted; returns the exit code (1 when the server cannot start)."""
    parser = argparse.ArgumentParser(
        prog="python -m registry_sync.testing",
        description="Run a local MKA1 model registry seeded from a list response document.",
    )
    parser.add_argument(
        "--seed",
        required=True,
        metavar="FILE",
        help='JSON list response: {"object": "list", "data": [RegistryModel, ...]}',
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--api-key", default="test-key", help="the key clients must send")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="milliseconds added to every request"
    )
    parser.add_argument(
        "--store-nulls",
        action="store_true",
        help="store the null a PATCH sends instead of removing the field",
    )
    parser.add_argument(
        "--fill-defaults",
        metavar="JSON",
        default=None,
        help="fields an add fills in when the body omits them, e.g. '{\"hidden\": false}' "
        "(dotted paths for nested fields)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="RPS",
        help="answer requests beyond RPS per second with 429 and Retry-After (token bucket)",
    )
    parser.add_argument(
        "--unhealthy",
        action="append",
        default=[],
        metavar="ID[=ERROR]",
        help="make the health probe of ID answer unavailable (with ERROR); repeatable",
    )
    args = parser.parse_args(argv)
    fill_defaults: dict[str, object] = {}
    if args.fill_defaults is not None:
        try:
            fill_defaults = json.loads(args.fill_defaults)
        except ValueError as exc:
            print(f"error: --fill-defaults is not valid JSON: {exc}", file=sys.stderr)
            return 1
        if not isinstance(fill_defaults, dict):
            print("error: --fill-defaults must be a JSON object", file=sys.stderr)
            return 1

    try:
        server = RegistryServer(
            args.seed,
            api_key=args.api_key,
            port=args.port,
            latency=args.latency_ms / 1000,
            store_nulls=args.store_nulls,
            fill_defaults=fill_defaults,
            rate_limit=args.rate_limit,
            unhealthy=dict(_unhealthy(item) for item in args.unhealthy),
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
        server.start()
    except (OSError, ValueError, RegistrySyncError) as exc:
        # ValueError covers a seed that is not JSON; RegistrySyncError one of the wrong shape.
        print(f"error: cannot start the registry server: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"registry server listening on {server.url} ({len(server.entries())} entries)")
        print("point registry-sync at it with:")
        print(f"  export MKA1_API_URL={server.url} MKA1_API_KEY={args.api_key}")
        print("press Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        server.stop()
    return 0


def _unhealthy(item: str) -> tuple[str, str]:
    # Ids hold a colon, never "=": the first "=" starts the error.
    model_id, _, error = item.partition("=")
    return model_id, error or DEFAULT_UNHEALTHY_ERROR


if __name__ == "__main__":
    sys.exit(main())
