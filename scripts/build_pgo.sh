#!/usr/bin/env bash
# Builds the `teachgym` command line with profile-guided optimisation (PGO).
#
#   bash scripts/build_pgo.sh           # -> target/pgo/release/teachgym
#
# PGO changes how the compiler lays out and inlines code, never what the code computes: the
# result simulates the same trajectories, bit for bit, as `cargo build --release` (the script
# checks this with `teachgym stats`' trajectory digest). It is faster on the physics: 13–22 %
# more steps/s on Stump Tracks (BENCHMARKS.md §1.1).
#
# Steps: (1) an instrumented build in target/pgo-instrumented; (2) a training workload that
# covers what the CLI spends its time on (walker stepping and resets for every env and body,
# a short PPO training run with a teacher, the web-form env); (3) the profiles merged with
# llvm-profdata; (4) the optimised build in target/pgo. llvm-profdata must match rustc's LLVM:
# it is taken from rustup's `llvm-tools` component (added if missing), else from an
# `llvm-profdata-<major>` on PATH with the same major version.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
instrumented="$root/target/pgo-instrumented"
optimised="$root/target/pgo"
profiles="$root/target/pgo-profiles"

llvm_major="$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
host="$(rustc -vV | sed -n 's/^host: //p')"
tools="$(rustc --print sysroot)/lib/rustlib/$host/bin"
profdata="$tools/llvm-profdata"
if [ ! -x "$profdata" ] && command -v rustup >/dev/null; then
    rustup component add llvm-tools >/dev/null 2>&1 || true
fi
if [ ! -x "$profdata" ]; then
    profdata="$(command -v "llvm-profdata-$llvm_major" || true)"
fi
if [ -z "$profdata" ] || [ ! -x "$profdata" ]; then
    echo "build_pgo.sh: no llvm-profdata for LLVM $llvm_major (rustc's): install rustup's" \
        "llvm-tools component or llvm-profdata-$llvm_major" >&2
    exit 1
fi

echo "== 1/4 instrumented build (target/pgo-instrumented)"
rm -rf "$profiles"
mkdir -p "$profiles"
RUSTFLAGS="-Cprofile-generate=$profiles" CARGO_TARGET_DIR="$instrumented" \
    cargo build -q --release --bin teachgym
# Build scripts ran instrumented too; only the workload's profiles are wanted.
rm -rf "$profiles"
mkdir -p "$profiles"

echo "== 2/4 training workload"
tg="$instrumented/release/teachgym"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
    "$tg" bench --env stump_tracks --body classic_bipedal --task 1.5,3 --steps 200000 --resets 2000 --repeat 1
    "$tg" bench --env stump_tracks --body small_bipedal --steps 50000 --resets 500 --repeat 1
    "$tg" bench --env hexagon_tracks --steps 50000 --resets 500 --repeat 1
    "$tg" stats --env stump_tracks --body old_classic_bipedal --task 0,6 --max-episode-steps 1600 --steps 50000
    "$tg" stats --env stump_tracks --policy scripted --task 0,6 --steps 10000
    # Short runs, so that learning code is profiled (not laid out as cold) without outweighing
    # the physics: two PPO updates on the walker, a few hundred DQN updates on web forms.
    "$tg" train --env stump_tracks --teacher alp_gmm --steps 33000 --eval-every 33000 --threads 1 \
        --quiet --out "$work/run-walker"
    "$tg" train --config examples/configs/webform_easy.toml --steps 1500 --eval-every 1500 \
        --threads 1 --quiet --out "$work/run-webform"
) >/dev/null

echo "== 3/4 merging profiles ($profdata)"
"$profdata" merge -o "$profiles/merged.profdata" "$profiles"

echo "== 4/4 optimised build (target/pgo)"
RUSTFLAGS="-Cprofile-use=$profiles/merged.profdata" CARGO_TARGET_DIR="$optimised" \
    cargo build -q --release --bin teachgym

echo "== checking that the PGO build simulates the same trajectories"
cargo build -q --release --bin teachgym
check=(stats --env stump_tracks --task 1.5,3 --steps 20000 --seed 11)
plain="$(target/release/teachgym "${check[@]}")"
pgo="$("$optimised/release/teachgym" "${check[@]}")"
if [ "$plain" != "$pgo" ]; then
    echo "build_pgo.sh: the PGO build's trajectories differ from the plain build's:" >&2
    echo "  plain: $plain" >&2
    echo "  pgo:   $pgo" >&2
    exit 1
fi
echo "same trajectories ($pgo)"
echo "built $optimised/release/teachgym"
