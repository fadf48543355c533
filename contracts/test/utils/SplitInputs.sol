// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only: valid split inputs (strictly ascending non-zero recipients, non-zero basis-point shares summing
///         to 10,000) drawn from a seed, for the unit, fuzz and invariant tests of Splits.
library SplitInputs {
    /// @return accounts `count` distinct addresses derived from `seed`, sorted ascending.
    /// @return shares `count` shares, each at least 1, summing to 10,000.
    function make(uint256 seed, uint256 count) internal pure returns (address[] memory accounts, uint16[] memory shares) {
        accounts = new address[](count);
        for (uint256 i; i < count; ++i) {
            address candidate = address(uint160(uint256(keccak256(abi.encode("recipient", seed, i)))));
            uint256 j = i;
            for (; j > 0 && accounts[j - 1] > candidate; --j) {
                accounts[j] = accounts[j - 1];
            }
            accounts[j] = candidate;
        }
        shares = makeShares(seed, count);
    }

    /// @return shares `count` shares, each at least 1, summing to 10,000: a random cut of what is left each time.
    function makeShares(uint256 seed, uint256 count) internal pure returns (uint16[] memory shares) {
        shares = new uint16[](count);
        uint256 left = 10_000 - count;
        for (uint256 i; i + 1 < count; ++i) {
            uint256 take = uint256(keccak256(abi.encode("share", seed, i))) % (left / 2 + 1);
            shares[i] = uint16(1 + take);
            left -= take;
        }
        shares[count - 1] = uint16(1 + left);
    }

    /// @return shares `count` equal shares, the remainder on the first (10,000 / 3 = 3,334 + 3,333 + 3,333).
    function equalShares(uint256 count) internal pure returns (uint16[] memory shares) {
        shares = new uint16[](count);
        for (uint256 i; i < count; ++i) {
            shares[i] = uint16(10_000 / count);
        }
        shares[0] += uint16(10_000 % count);
    }

    /// @return accounts `actors` sorted ascending (a copy).
    function sorted(address[] memory actors) internal pure returns (address[] memory accounts) {
        accounts = new address[](actors.length);
        for (uint256 i; i < actors.length; ++i) {
            uint256 j = i;
            for (; j > 0 && accounts[j - 1] > actors[i]; --j) {
                accounts[j] = accounts[j - 1];
            }
            accounts[j] = actors[i];
        }
    }
}
