#!/usr/bin/env bash
# Runs the test suite with cargo-nextest when it is installed, cargo test otherwise.
set -euo pipefail
if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --all-features --no-fail-fast "$@"
fi
echo "cargo-nextest not found, using cargo test (install it with: cargo install cargo-nextest)" >&2
exec cargo test --workspace --all-features --no-fail-fast "$@"
