// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BaselineEditions1155
/// @notice Benchmark reference only: the ERC-1155 way to sell numbered editions, one id per work and one unit of
///         it per edition, with the work's EIP-2981 royalty set once per id.
/// @dev Not deployed by the marketplace. It stores no URI (`uri` is OZ's empty default), so its mint is the
///      cheapest an ERC-1155 edition can be: what `CreativeWorks`' per-edition tokens are weighed against.
contract BaselineEditions1155 is ERC1155, ERC2981, Ownable {
    /// @param owner_ The only account allowed to mint.
    constructor(address owner_) ERC1155("") Ownable(owner_) {}

    /// @notice Mints one more edition (one unit) of work `id` to `to`; the first edition sets the work's royalty.
    /// @param to Owner of the new edition.
    /// @param id The work's token id (all its editions share it).
    /// @param royaltyReceiver EIP-2981 receiver of the work.
    /// @param royaltyBps EIP-2981 royalty in basis points.
    function mint(address to, uint256 id, address royaltyReceiver, uint96 royaltyBps) external onlyOwner {
        (address receiver,) = royaltyInfo(id, 0);
        if (receiver == address(0)) _setTokenRoyalty(id, royaltyReceiver, royaltyBps);
        _mint(to, id, 1, "");
    }

    /// @notice ERC-165: ERC-1155 (+ metadata URI) and ERC-2981.
    /// @param interfaceId The interface identifier.
    /// @return True if the interface is supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, ERC2981) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
