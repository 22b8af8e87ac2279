#!/usr/bin/env bash
# Web-form env throughput (teachgym, single thread, random valid actions) and, for the record,
# MiniWoB++ login-user and book-flight (real headless Chromium driven by Selenium) in the same run.
# MiniWoB++ needs Debian's chromium + chromium-driver and `pip install miniwob`; both are
# installed here (apt as root, a throwaway venv) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

cargo build --release -p teachgym-envs --example webform_bench
echo "== teachgym webform (1M steps x 3 per row, 100k resets)"
"$target/release/examples/webform_bench" 1000000 100000 3

if ! command -v chromedriver >/dev/null; then
    apt-get install -y -q chromium chromium-driver
fi
venv="${MINIWOB_VENV:-/tmp/teachgym-miniwob-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q miniwob
fi
echo "== MiniWoB++ (300 steps x 3 per task)"
for task in login-user book-flight; do
    "$venv/bin/python" scripts/miniwob_peer.py "$task" 300 3 2>/dev/null
done
