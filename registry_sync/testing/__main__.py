"""``python -m registry_sync.testing``: run the local registry in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

from registry_sync.errors import RegistrySyncError
from registry_sync.schema.generations import APIS
from registry_sync.testing.server import (
    DEFAULT_UNHEALTHY_ERROR,
    Fault,
    RegistryServer,
    StoreRules,
)

__all__ = ["EXAMPLE_SEED", "describe_fault", "fault_from_args", "main", "seed_path"]

# The example registry (a registry API list response), shipped in the package so that
# `--seed example` works wherever registry-sync is installed; examples/registry.json
# in a checkout is the same file.
EXAMPLE_SEED = resources.files("registry_sync.testing") / "data" / "example-registry.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted; returns the exit code (1 when the server cannot start)."""
    parser = argparse.ArgumentParser(
        prog="python -m registry_sync.testing",
        description="Run a local MKA1 model registry on 127.0.0.1: empty, seeded with the "
        "example registry (--seed example) or with a list response document.",
    )
    parser.add_argument(
        "--seed",
        default=None,
        metavar="FILE|example",
        help='the registry to start with: "example" (the example registry shipped with '
        'registry-sync, registry API), or a JSON list response: {"object": "list", '
        '"data": [RegistryModel, ...]}, or with --api catalog {"object": "list", '
        '"currency": ..., "data": [CatalogEntry, ...]} (default: an empty registry)',
    )
    parser.add_argument(
        "--api",
        choices=APIS,
        default="registry",
        help="the API generation to speak: the registry API (default) or the catalog "
        "and activation API",
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
    parser.add_argument(
        "--unknown",
        action="append",
        default=[],
        metavar="ID",
        help="with --api catalog: make the health probe of ID answer unknown; repeatable",
    )
    faults = parser.add_argument_group(
        "faults",
        "answer some requests with a failure, to see how registry-sync copes, e.g. "
        "--fail-every 3 --fail-status 503 (every third request is a 503)",
    )
    faults.add_argument(
        "--fail-status",
        type=int,
        metavar="CODE",
        help="answer with this error status (429 comes with Retry-After; 500, 502, 503, ...)",
    )
    faults.add_argument(
        "--drop", action="store_true", help="close the connection without any answer"
    )
    faults.add_argument(
        "--malformed",
        action="store_true",
        help="answer 200 with an HTML page instead of the JSON the API returns",
    )
    faults.add_argument(
        "--fail-every",
        type=int,
        default=1,
        metavar="N",
        help="fail every Nth matching request, from the Nth on (default: 1, every one)",
    )
    faults.add_argument(
        "--fail-method",
        choices=("GET", "POST", "PATCH", "DELETE"),
        type=str.upper,
        default=None,
        help="fail only requests of this method (default: any)",
    )
    faults.add_argument(
        "--fail-times",
        type=int,
        default=None,
        metavar="N",
        help="stop failing after N failures (default: never stop)",
    )
    faults.add_argument(
        "--retry-after",
        default=None,
        metavar="S",
        help="with --fail-status 429: the Retry-After header's value (default: 1)",
    )
    args = parser.parse_args(argv)
    if args.seed == "example" and args.api != "registry":
        print(
            "error: --seed example is a registry of the registry API: leave out --api "
            "catalog, or seed the catalog with a CatalogListResponse file",
            file=sys.stderr,
        )
        return 1
    try:
        fault = fault_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
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
            seed_path(args.seed),
            api_key=args.api_key,
            port=args.port,
            latency=args.latency_ms / 1000,
            store=StoreRules(store_nulls=args.store_nulls, fill_defaults=fill_defaults),
            rate_limit=args.rate_limit,
            unhealthy=dict(_unhealthy(item) for item in args.unhealthy),
            log=lambda line: print(line, file=sys.stderr, flush=True),
            api=args.api,
        )
        for model_id in args.unknown:
            server.set_unknown(model_id)
        if fault is not None:
            server.inject(fault)
        server.start()
    except (OSError, ValueError, RegistrySyncError) as exc:
        # ValueError covers a seed that is not JSON; RegistrySyncError one of the wrong shape.
        print(f"error: cannot start the registry server: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C stops it cleanly (exit 0) from the moment it serves, banner included.
    try:
        with contextlib.suppress(KeyboardInterrupt):
            _banner(server, fault, args.api_key)
            threading.Event().wait()
    finally:
        server.stop()
    return 0


def _banner(server: RegistryServer, fault: Fault | None, api_key: str) -> None:
    held = (
        f"{server.entry_count} definitions; catalog API"
        if server.api == "catalog"
        else f"{server.entry_count} entries"
    )
    print(f"registry server listening on {server.url} ({held})")
    if fault is not None:
        print(f"faults: {describe_fault(fault)}")
    print("point registry-sync at it with:")
    print(f"  export MKA1_API_URL={server.url} MKA1_API_KEY={api_key}")
    print("press Ctrl-C to stop", flush=True)


def seed_path(seed: str | None) -> str | None:
    """The file ``--seed`` names: ``example`` is the shipped example registry, None an
    empty registry."""
    if seed == "example":
        return str(EXAMPLE_SEED)
    return seed


def _unhealthy(item: str) -> tuple[str, str]:
    # Ids hold a colon, never "=": the first "=" starts the error.
    model_id, _, error = item.partition("=")
    return model_id, error or DEFAULT_UNHEALTHY_ERROR


def fault_from_args(args: argparse.Namespace) -> Fault | None:
    """The fault the switches ask for, None when none is; raises ValueError naming a
    switch that is wrong or missing its kind."""
    kinds = [
        name
        for name, given in (
            ("--fail-status", args.fail_status is not None),
            ("--drop", args.drop),
            ("--malformed", args.malformed),
        )
        if given
    ]
    if len(kinds) > 1:
        raise ValueError(f"{' and '.join(kinds)} cannot be combined: choose one kind of fault")
    if not kinds:
        given = [
            name
            for name, value in (
                ("--fail-every", args.fail_every != 1),
                ("--fail-method", args.fail_method is not None),
                ("--fail-times", args.fail_times is not None),
                ("--retry-after", args.retry_after is not None),
            )
            if value
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)} needs a kind of fault: --fail-status CODE, --drop "
                "or --malformed"
            )
        return None
    if args.retry_after is not None and args.fail_status != 429:
        raise ValueError("--retry-after goes with --fail-status 429")
    if args.fail_every < 1:
        raise ValueError("--fail-every must be 1 or more")
    if args.fail_times is not None and args.fail_times < 1:
        raise ValueError("--fail-times must be 1 or more")
    common: dict[str, Any] = {
        "method": args.fail_method,
        "times": args.fail_times,
        "every": args.fail_every,
    }
    if args.drop:
        return Fault("drop", **common)
    if args.malformed:
        return Fault("malformed", **common)
    if args.fail_status == 429:
        return Fault("rate-limit", retry_after=args.retry_after or "1", **common)
    if not 400 <= args.fail_status <= 599:
        raise ValueError(
            f"--fail-status {args.fail_status} is not an error status: give 429 or a 5xx "
            "such as 500, 502, 503, 504"
        )
    return Fault("status", status=args.fail_status, **common)


def describe_fault(fault: Fault) -> str:
    """The fault in words, for the banner."""
    what = {
        "drop": "dropped connection",
        "malformed": "malformed 200 answer",
        "rate-limit": f"429 with Retry-After: {fault.retry_after}",
        "status": f"status {fault.status}",
    }[fault.kind]
    which = "every request" if fault.every == 1 else f"every {_ordinal(fault.every)} request"
    if fault.method is not None:
        which = which.replace("request", f"{fault.method} request")
    limit = "" if fault.times is None else f", {fault.times} times at most"
    return f"{what} for {which}{limit}"


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


if __name__ == "__main__":
    sys.exit(main())
