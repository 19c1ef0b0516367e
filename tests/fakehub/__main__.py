"""Serve fixture roots until interrupted: `cd tests && python -m fakehub [--port N] [--admin-token T] ROOT...`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fakehub.server import FakeHub


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakehub", description=__doc__)
    parser.add_argument("roots", nargs="*", default=[str(Path(__file__).parents[1] / "fixtures" / "repos")])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--admin-token", action="append", default=[], help="a token that may read every repo")
    args = parser.parse_args()
    with FakeHub(args.roots, admin_tokens=args.admin_token, port=args.port) as hub:
        print(f"serving {len(hub.repos)} repos at {hub.endpoint}  (export HF_ENDPOINT={hub.endpoint})", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
