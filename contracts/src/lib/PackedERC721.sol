// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC165, IERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

/// @title PackedERC721
/// @notice ERC-721 core that keeps 96 bits of per-token data in the same storage slot as the token's owner.
/// @dev OpenZeppelin's ERC721 keeps `_owners` private, so anything else a token carries (its EIP-2981 royalty)
///      costs a fresh 22,100-gas slot of its own at mint. Here a token is one word: owner (bits 0-159) and
///      `extraData` (bits 160-255, set at mint, kept by every transfer), as Solady's ERC721 packs them.
///      Everything else follows OpenZeppelin 5's ERC721 exactly: the same ERC-6093 custom errors in the same
///      order of checks, the same events, `transferFrom` checking authority before the `from` owner, an approval
///      cleared (without an Approval event) by a transfer, `safeTransferFrom` through `ERC721Utils`' receiver
///      check, and `ownerOf`/`getApproved`/`tokenURI` reverting for a token that does not exist. No burn: a
///      token, once minted, exists for ever.
abstract contract PackedERC721 is ERC165, IERC721, IERC721Metadata, IERC721Errors {
    /// @dev The owner's bits in a token word.
    uint256 private constant _OWNER_MASK = type(uint160).max;

    string private _name;
    string private _symbol;

    /// @dev owner | extraData << 160; zero for a token that was never minted (an owner is never address(0)).
    mapping(uint256 tokenId => uint256 word) private _tokens;
    mapping(address owner => uint256 count) private _balances;
    mapping(uint256 tokenId => address approved) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool approved)) private _operatorApprovals;

    /// @param name_ ERC-721 collection name.
    /// @param symbol_ ERC-721 collection symbol.
    constructor(string memory name_, string memory symbol_) {
        _name = name_;
        _symbol = symbol_;
    }

    // ------------------------------------------------------------------------------------------------
    // ERC-721 and ERC-721 metadata
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) public view virtual returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) public view virtual returns (address) {
        return _requireOwned(tokenId);
    }

    /// @inheritdoc IERC721Metadata
    function name() public view virtual returns (string memory) {
        return _name;
    }

    /// @inheritdoc IERC721Metadata
    function symbol() public view virtual returns (string memory) {
        return _symbol;
    }

    /// @inheritdoc IERC721
    function approve(address to, uint256 tokenId) public virtual {
        address owner = _requireOwned(tokenId);
        if (owner != msg.sender && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) public view virtual returns (address) {
        _requireOwned(tokenId);
        return _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) public virtual {
        if (operator == address(0)) revert ERC721InvalidOperator(address(0));
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) public view virtual returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) public virtual {
        _transfer(from, to, tokenId);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) public virtual {
        _transfer(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public virtual {
        _transfer(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev The owner of `tokenId`, address(0) if it was never minted; does not revert.
    function _ownerOf(uint256 tokenId) internal view returns (address) {
        // casting to 'uint160' is safe because the owner is the word's low 160 bits
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(_tokens[tokenId]));
    }

    /// @dev The 96 bits stored with `tokenId` at mint (zero for a token that does not exist).
    function _extraData(uint256 tokenId) internal view returns (uint96) {
        // casting to 'uint96' is safe because a word is 256 bits: 96 are left above the owner
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint96(_tokens[tokenId] >> 160);
    }

    /// @dev The owner of `tokenId`; reverts with ERC721NonexistentToken if it was never minted.
    function _requireOwned(uint256 tokenId) internal view returns (address owner) {
        owner = _ownerOf(tokenId);
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }

    /// @dev Mints `tokenId` to `to` with `extraData` in its word (OpenZeppelin's `_mint`: no receiver check).
    function _mint(address to, uint256 tokenId, uint96 extraData) internal {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        if (_tokens[tokenId] != 0) revert ERC721InvalidSender(address(0));
        unchecked {
            ++_balances[to]; // at most one per token id: cannot overflow
        }
        _tokens[tokenId] = uint256(uint160(to)) | (uint256(extraData) << 160);
        emit Transfer(address(0), to, tokenId);
    }

    /// @dev `transferFrom` by `msg.sender`: moves the owner bits only, so the extra data stays with the token.
    function _transfer(address from, address to, uint256 tokenId) internal {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        uint256 word = _tokens[tokenId];
        // casting to 'uint160' is safe because the owner is the word's low 160 bits
        // forge-lint: disable-next-line(unsafe-typecast)
        address owner = address(uint160(word));
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
        address approved = _tokenApprovals[tokenId];
        if (owner != msg.sender && approved != msg.sender && !_operatorApprovals[owner][msg.sender]) {
            revert ERC721InsufficientApproval(msg.sender, tokenId);
        }
        if (owner != from) revert ERC721IncorrectOwner(from, tokenId, owner);
        if (approved != address(0)) delete _tokenApprovals[tokenId];
        unchecked {
            --_balances[from]; // `from` owns this token: its balance is at least one
            ++_balances[to];
        }
        _tokens[tokenId] = (word & ~_OWNER_MASK) | uint256(uint160(to));
        emit Transfer(from, to, tokenId);
    }
}
