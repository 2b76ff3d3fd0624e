"""python -m dashboards [--port N]: same as `qinglian dashboard`."""

from __future__ import annotations

import argparse

from dashboards.serve import main

parser = argparse.ArgumentParser(prog="python -m dashboards", description="启动清廉建设驾驶舱")
parser.add_argument("--port", type=int, default=8501, help="端口（默认 8501）")
parser.add_argument("--address", default=None, help="监听地址（默认所有地址）")
args = parser.parse_args()
raise SystemExit(main(port=args.port, address=args.address))
