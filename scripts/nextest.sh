#!/usr/bin/env bash
# Runs tests with cargo-nextest when it is installed, cargo test otherwise. Arguments
# select packages (e.g. `--workspace --exclude e2e` or `-p e2e`).
set -euo pipefail
if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --all-features --no-fail-fast "$@"
fi
echo "cargo-nextest not found, using cargo test (install it with: cargo install cargo-nextest)" >&2
exec cargo test --all-features --no-fail-fast "$@"
