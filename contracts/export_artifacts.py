#!/usr/bin/env python3
"""Copy the deployable contracts out of forge's build into the JSON files the Python service loads.

Run after `forge build` (scripts/build_contracts.sh does both). Output is deterministic: sorted keys,
indent 2, trailing newline; the bytecode carries no metadata hash, so it changes only when the code does.

    python3 contracts/export_artifacts.py [--out contracts/out] [--dest marketplace/integrations/chain/artifacts]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = CONTRACTS_DIR.parent

# (source file under src/, contract name)
EXPORTED = [
    ("CreativeWorks.sol", "CreativeWorks"),
    ("BaselineURIStorage.sol", "BaselineURIStorage"),
    ("BaselineEditions1155.sol", "BaselineEditions1155"),
    ("Splits.sol", "Splits"),
]


def export_contract(forge_artifact: dict, contract_name: str) -> dict:
    """Reduce one forge artifact to what web3.py needs to deploy and call the contract."""
    for part in ("bytecode", "deployedBytecode"):
        if forge_artifact[part].get("linkReferences"):
            raise SystemExit(f"{contract_name}: {part} needs library linking, which the export does not do")
    metadata = forge_artifact["metadata"]
    return {
        "contractName": contract_name,
        "abi": forge_artifact["abi"],
        "bytecode": forge_artifact["bytecode"]["object"],
        "deployedBytecode": forge_artifact["deployedBytecode"]["object"],
        "compiler": "solc " + metadata["compiler"]["version"].split("+")[0],
        "evmVersion": metadata["settings"]["evmVersion"],
    }


def render(artifact: dict) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CONTRACTS_DIR / "out", help="forge's out directory")
    parser.add_argument(
        "--dest", type=Path, default=REPO_ROOT / "marketplace" / "chain" / "artifacts", help="where to write"
    )
    args = parser.parse_args(argv)

    args.dest.mkdir(parents=True, exist_ok=True)
    for source_file, name in EXPORTED:
        forge_path = args.out / source_file / f"{name}.json"
        if not forge_path.is_file():
            print(f"missing {forge_path}: run `forge build` in contracts/ first", file=sys.stderr)
            return 1
        artifact = export_contract(json.loads(forge_path.read_text()), name)
        if not artifact["bytecode"].startswith("0x") or len(artifact["bytecode"]) <= 2:
            print(f"{name}: empty bytecode in {forge_path}", file=sys.stderr)
            return 1
        target = args.dest / f"{name}.json"
        target.write_text(render(artifact))
        print(f"wrote {target} ({len(artifact['deployedBytecode']) // 2 - 1} bytes deployed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
