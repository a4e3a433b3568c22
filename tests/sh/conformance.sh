#!/usr/bin/env bash
# Greedy output and prompt tokens equal llama.cpp's on every recorded model (native build).
set -euo pipefail
node tests/conformance.mjs
