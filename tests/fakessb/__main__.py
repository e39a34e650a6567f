"""Run the fake SSB server by hand, to try `drivers fetch` against it (real HTTP on 127.0.0.1, real time).

    cd tests && python -m fakessb [--port 8765] [--max-cells 800000] [--rate-calls 40]

It serves 12134, 12362, 07459, 13502 and 12209 built from the real data in ../shared/ssb, with SSB's limits and
error bodies.
"""

from __future__ import annotations

import argparse
import time

from fakessb.server import FakeSSB
from fakessb.tables import table_07459, table_12134, table_12209, table_12362, table_13502


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m fakessb", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--max-cells", type=int, default=800_000)
    parser.add_argument("--rate-calls", type=int, default=40, help="calls allowed per 60 s window")
    args = parser.parse_args()
    tables = {"12134": table_12134(), "07459": table_07459(), "12362": table_12362(), "13502": table_13502(),
              "12209": table_12209()}
    server = FakeSSB(tables, max_cells=args.max_cells, rate_calls=args.rate_calls).start(port=args.port)
    print(f"fake SSB at {server.url}  (try: drivers fetch --base-url {server.url} --db /tmp/x.duckdb "
          "--tables 12134,07459 --years 2024-2024); Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
