// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BaselineURIStorage
/// @notice Benchmark reference only: a plain OpenZeppelin ERC721URIStorage that stores each token's URI string.
/// @dev Not deployed by the marketplace; `CreativeWorks` mint gas is compared against `mint` here.
contract BaselineURIStorage is ERC721URIStorage, Ownable {
    /// @param name_ ERC-721 collection name.
    /// @param symbol_ ERC-721 collection symbol.
    /// @param owner_ The only account allowed to mint.
    constructor(string memory name_, string memory symbol_, address owner_) ERC721(name_, symbol_) Ownable(owner_) {}

    /// @notice Mints `tokenId` to `to` and stores `uri` as its token URI.
    /// @param to Owner of the new token.
    /// @param tokenId Id of the new token.
    /// @param uri Token URI, e.g. `ipfs://bafkrei...`.
    function mint(address to, uint256 tokenId, string calldata uri) external onlyOwner {
        _mint(to, tokenId);
        _setTokenURI(tokenId, uri);
    }
}
