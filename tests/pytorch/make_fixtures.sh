#!/usr/bin/env bash
# Regenerate every committed test fixture in tests/fixtures with PyTorch
# (Debian's python3-torch, run through /usr/bin/python3). CI does not need
# this: the fixtures are committed. gen_darknet.py reads ../shared.
set -euo pipefail
cd "$(dirname "$0")"
for script in gen_*.py; do
    echo "== $script"
    /usr/bin/python3 "$script"
done
