#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, clippy (warnings are errors), the Rust test
# suite of the whole workspace (unit, integration and doc tests), and the docs build.
# Python tests join here when the Python package lands.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q
