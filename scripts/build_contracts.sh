#!/usr/bin/env bash
# Compile the Solidity contracts offline (forge + solc-js shim) and export the ABI/bytecode JSON
# that marketplace/chain loads. Run from the repo root after `npm ci`:
#   scripts/build_contracts.sh            # build + export to marketplace/integrations/chain/artifacts/
#   scripts/build_contracts.sh --test     # also run `forge test`
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
forge="$repo_root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
if [[ ! -x "$forge" ]]; then
    echo "forge not found at $forge: run 'npm ci' in $repo_root first" >&2
    exit 1
fi

# foundry.toml points at ./solc-shim.js relative to the working directory, so forge runs inside contracts/.
cd "$repo_root/contracts"
"$forge" build
python3 export_artifacts.py --out out --dest "$repo_root/marketplace/integrations/chain/artifacts"
if [[ "${1:-}" == "--test" ]]; then
    "$forge" test
fi
