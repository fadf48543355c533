// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only reference: parses `ipfs://b<base32>` back into CID bytes, written independently of
///         src/lib/RawCid.sol (char-by-char decoding instead of byte-by-byte encoding).
library RawCidDecoder {
    error NotAnIpfsBase32Uri(string uri);
    error BadBase32Char(bytes1 char);
    error NonZeroPadding();

    /// @return header The first four CID bytes (expected 0x01551220).
    /// @return digest The 32 bytes after the header.
    function decode(string memory uri) internal pure returns (bytes4 header, bytes32 digest) {
        bytes memory text = bytes(uri);
        if (text.length != 66 || keccak256(_slice(text, 0, 8)) != keccak256("ipfs://b")) {
            revert NotAnIpfsBase32Uri(uri);
        }
        // 58 chars * 5 bits = 290 bits = 288 CID bits + 2 padding bits. Collect into two words:
        // hi = first 256 bits, lo = remaining 34 bits.
        uint256 hi;
        uint256 lo;
        for (uint256 k = 0; k < 58; ++k) {
            uint256 v = _value(text[8 + k]);
            // shift the 290-bit number (hi:lo, lo holding 34 bits) left by 5 and add v
            hi = (hi << 5) | (lo >> 29);
            lo = ((lo << 5) | v) & ((uint256(1) << 34) - 1);
        }
        if (lo & 3 != 0) revert NonZeroPadding();
        uint256 tail = lo >> 2; // last 32 bits of the 288-bit CID
        header = bytes4(bytes32(hi));
        digest = bytes32((hi << 32) | tail);
    }

    function _value(bytes1 c) private pure returns (uint256) {
        if (c >= "a" && c <= "z") return uint8(c) - 0x61; // 0x61 = "a"
        if (c >= "2" && c <= "7") return uint8(c) - 0x32 + 26; // 0x32 = "2"
        revert BadBase32Char(c);
    }

    function _slice(bytes memory b, uint256 start, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) {
            out[i] = b[start + i];
        }
    }
}
