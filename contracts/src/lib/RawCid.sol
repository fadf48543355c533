// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title RawCid
/// @notice Builds the `ipfs://` URI of a CIDv1 with the raw codec (0x55) and a sha2-256 multihash
///         from the 32-byte digest alone, so no URI string needs to be stored on chain.
/// @dev CID bytes: 0x01 (CIDv1) ‖ 0x55 (raw) ‖ 0x12 (sha2-256) ‖ 0x20 (32-byte digest) ‖ digest.
///      Text form: multibase base32 lower case ("b" prefix, RFC 4648 alphabet a-z2-7, no padding).
///      36 bytes = 288 bits -> 58 base32 characters, so the URI is always 7 + 1 + 58 = 66 bytes long.
library RawCid {
    /// @dev The four CID header bytes in front of the digest.
    bytes4 internal constant CID_HEADER = 0x01551220;

    /// @dev "ipfs://" followed by the multibase prefix "b".
    bytes8 internal constant URI_PREFIX = "ipfs://b";

    /// @dev Length of the full URI in bytes.
    uint256 internal constant URI_LENGTH = 66;

    /// @notice Returns `ipfs://b...` for the raw-codec CIDv1 of `digest`.
    /// @param digest The sha2-256 digest of the content.
    /// @return uri The 66-character URI, e.g. `ipfs://bafkrei...`.
    function toIpfsUri(bytes32 digest) internal pure returns (string memory uri) {
        bytes memory out = new bytes(URI_LENGTH);
        bytes memory cid = abi.encodePacked(CID_HEADER, digest);
        assembly ("memory-safe") {
            mstore(add(out, 0x20), URI_PREFIX)
        }
        unchecked {
            uint256 buffer;
            uint256 bits;
            uint256 j = 8;
            for (uint256 i; i < 36; ++i) {
                buffer = (buffer << 8) | uint8(cid[i]);
                bits += 8;
                while (bits >= 5) {
                    bits -= 5;
                    out[j++] = _base32Char((buffer >> bits) & 31);
                }
            }
            // 288 = 57 * 5 + 3: the last 3 bits are padded with two zero bits.
            out[j] = _base32Char((buffer << (5 - bits)) & 31);
        }
        uri = string(out);
    }

    /// @dev RFC 4648 lower-case alphabet: 0-25 -> 'a'-'z', 26-31 -> '2'-'7'.
    function _base32Char(uint256 value) private pure returns (bytes1) {
        unchecked {
            return bytes1(uint8(value < 26 ? 0x61 + value : 0x18 + value));
        }
    }
}
