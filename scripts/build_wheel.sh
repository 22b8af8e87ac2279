#!/usr/bin/env bash
# Builds teachgym's wheel: one abi3 wheel for CPython >= 3.10 on Linux x86-64, tagged
# manylinux2014 (manylinux_2_17), so that pip installs it without a Rust toolchain on any
# glibc >= 2.17 distribution.
#
#   bash scripts/build_wheel.sh [OUT_DIR] [extra maturin arguments...]
#
# OUT_DIR defaults to dist/. Needs `maturin` and `ziglang` on the Python of $PYTHON (default:
# python3; scripts/test_python.sh passes its venv's), e.g. `pip install "maturin>=1.9.4,<2" ziglang`.
#
# Why zig: a wheel linked on this machine's Debian 12 (glibc 2.36) references pthread_create,
# dlsym and others at their GLIBC_2.34 versions (glibc 2.34 moved libpthread into libc), so
# maturin could only tag it manylinux_2_34, which pip refuses on Ubuntu 20.04, RHEL 8 and other
# older systems. Linking through `zig cc` against glibc 2.17's symbol versions gives
# manylinux2014 without a manylinux container (none can be pulled here). maturin's auditwheel
# check verifies the tag after the build.
#
# Release profile (lto = "thin", one codegen unit), as users get it. scripts/test_python.sh adds
# `--features test-hooks` (one private function, `_teachgym._panic_for_tests`, that panics on
# purpose so pytest can check that a panic becomes a Python exception); a released wheel is
# built without it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
OUT="${1:-dist}"
shift || true
if ! "$PYTHON" -m maturin --version >/dev/null 2>&1 || ! "$PYTHON" -m ziglang version >/dev/null 2>&1; then
    echo "error: $PYTHON needs maturin and ziglang: $PYTHON -m pip install 'maturin>=1.9.4,<2' ziglang" >&2
    exit 1
fi
mkdir -p "$OUT"
"$PYTHON" -m maturin build --release --zig --compatibility manylinux2014 \
    --manifest-path python/Cargo.toml --out "$OUT" "$@"
