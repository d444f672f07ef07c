"""Command line: ``python -m simulator serve ...`` and ``python -m simulator generate-fleet ...``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from .fleet import generate_fleet, load_fleet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the simulated fleet")
    serve.add_argument("--fleet", required=True, type=Path, help="fleet file (.yaml/.yml or .json)")
    serve.add_argument("--state-dir", required=True, type=Path, help="where ca.pem and ready.json are written")
    serve.add_argument("--port", type=int, default=8443, help="TLS port every appliance listens on")
    serve.add_argument("--control-port", type=int, default=8099, help="control API port on 127.0.0.1 (0: any)")
    serve.add_argument("--http", action="store_true", help="serve plain HTTP instead of HTTPS")
    serve.add_argument("--time-scale", type=float, help="override the fleet file's simulator.time_scale")
    serve.add_argument("-v", "--verbose", action="store_true")

    gen = commands.add_parser("generate-fleet", help="write a deterministic fleet file")
    gen.add_argument("--organisations", type=int, default=2)
    gen.add_argument("--pairs-per-org", type=int, default=2)
    gen.add_argument("--singles", type=int, default=1, help="unpaired appliances per organisation")
    gen.add_argument("--time-scale", type=float, default=1.0)
    gen.add_argument("--seed", default="failover-portal")
    gen.add_argument("--vendor-pairs-per-org", type=int, default=0,
                     help="pairs per organisation in the vendor profile (vendor API only)")
    gen.add_argument("--vendor-singles-per-org", type=int, default=0,
                     help="unpaired appliances per organisation in the vendor profile")
    gen.add_argument("--output", "-o", type=Path, required=True)

    args = parser.parse_args(argv)
    if args.command == "generate-fleet":
        fleet = generate_fleet(args.organisations, args.pairs_per_org, args.singles, seed=args.seed,
                               simulator={"time_scale": args.time_scale}, path=args.output,
                               vendor_pairs_per_org=args.vendor_pairs_per_org,
                               vendor_singles_per_org=args.vendor_singles_per_org)
        count = sum(len(o["appliances"]) for o in fleet["organisations"])
        print(f"wrote {count} appliances to {args.output}")
        return 0

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fleet = load_fleet(args.fleet)
    if args.time_scale is not None:
        fleet["simulator"]["time_scale"] = args.time_scale
    from .server import run  # imported late so generate-fleet stays light

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(fleet, args.state_dir, args.port, args.control_port, not args.http))
    return 0


if __name__ == "__main__":
    sys.exit(main())
