// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {PackedERC721} from "./lib/PackedERC721.sol";
import {RawCid} from "./lib/RawCid.sol";

/// @title CreativeWorks
/// @notice Digital works by creators in Luxembourg, minted as content-addressed NFTs, one token per edition.
/// @dev The token id IS the sha2-256 digest of the token's metadata JSON, stored on IPFS as a raw-codec
///      CIDv1. `tokenURI` rebuilds `ipfs://bafkrei...` from that digest, so a mint stores no URI at all,
///      and the same metadata can never be minted twice. A numbered edition is a token of its own: its
///      metadata names its `edition_number`, so its digest (its id) differs from its siblings'. A metadata
///      revision stores only the new digest.
///
///      One storage word per token holds its owner and its EIP-2981 royalty (see PackedERC721): bits 160-175
///      are the royalty in basis points, bits 176-255 the key of its receiver in `_receivers`. A receiver (a
///      creator's address, a co-created work's split contract) is written once, at its first royalty mint, so
///      the editions and works it is paid for cost no royalty slot of their own. Its key is the top 80 bits of
///      keccak256(receiver), the next free key on the (never yet seen) collision: no counter to keep, one slot
///      per receiver, and a key that no later registration can change.
contract CreativeWorks is PackedERC721, AccessControl, IERC2981, IERC4906 {
    /// @notice Role allowed to mint and to revise metadata (the marketplace's minting wallet).
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Highest royalty a token can carry, in basis points (2500 = 25%).
    uint96 public constant MAX_ROYALTY_BPS = 2500;

    /// @notice One mint of a batch.
    /// @param to Owner of the new token.
    /// @param metadataDigest sha2-256 digest of the metadata JSON; becomes the token id.
    /// @param royaltyReceiver EIP-2981 receiver; ignored when `royaltyBps` is zero.
    /// @param royaltyBps EIP-2981 royalty in basis points; 0 means no per-token royalty.
    struct MintRequest {
        address to;
        bytes32 metadataDigest;
        address royaltyReceiver;
        uint96 royaltyBps;
    }

    /// @dev EIP-2981 denominator: royalties are in basis points.
    uint256 private constant _FEE_DENOMINATOR = 10_000;
    /// @dev A receiver key is 80 bits; a token's royalty bps sit below it in the 96 bits of extra data.
    uint256 private constant _KEY_MASK = type(uint80).max;
    uint256 private constant _BPS_BITS = 16;

    /// @dev Current metadata digest of tokens whose metadata was revised; zero means "the token id".
    mapping(uint256 tokenId => bytes32 digest) private _revisedDigest;
    /// @dev Royalty receivers by key (see the contract's notes); a key, once taken, never changes.
    mapping(uint256 key => address receiver) private _receivers;

    /// @notice A token with this id (this metadata digest) already exists.
    error TokenAlreadyMinted(uint256 tokenId);
    /// @notice The requested royalty is above `MAX_ROYALTY_BPS`.
    error RoyaltyTooHigh(uint96 bps, uint96 max);
    /// @notice A royalty was asked for with no receiver (OpenZeppelin ERC2981's error, same selector).
    error ERC2981InvalidTokenRoyaltyReceiver(uint256 tokenId, address receiver);
    /// @notice A metadata digest of zero was given.
    error ZeroDigest();
    /// @notice `mintBatch` or `transferBatch` was called with nothing to do.
    error EmptyBatch();
    /// @notice `transferBatch` got `owners` owners and `receivers` recipients for `tokens` tokens.
    error BatchLengthMismatch(uint256 owners, uint256 receivers, uint256 tokens);

    /// @notice `tokenId` was minted with an EIP-2981 royalty of `bps` basis points paid to `receiver`.
    /// @dev EIP-2981 itself emits nothing; emitted once per token minted with a royalty (bps > 0).
    event TokenRoyaltySet(uint256 indexed tokenId, address indexed receiver, uint96 bps);

    /// @notice The metadata of `tokenId` now lives at the raw CID of `newDigest`.
    /// @dev Emitted next to the ERC-4906 `MetadataUpdate(tokenId)` so indexers get the digest from the log.
    event MetadataRevised(uint256 indexed tokenId, bytes32 previousDigest, bytes32 newDigest);

    /// @param name_ ERC-721 collection name.
    /// @param symbol_ ERC-721 collection symbol.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (grants and revokes roles).
    /// @param minter Receives MINTER_ROLE.
    constructor(string memory name_, string memory symbol_, address admin, address minter)
        PackedERC721(name_, symbol_)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, minter);
    }

    // ------------------------------------------------------------------------------------------------
    // Minting
    // ------------------------------------------------------------------------------------------------

    /// @notice Mints the work whose metadata JSON has sha2-256 digest `digest`.
    /// @dev Uses `_mint`, not `_safeMint`: receivers are custodial or user EOAs chosen by the marketplace.
    /// @param to Owner of the new token.
    /// @param digest sha2-256 digest of the metadata JSON (raw-codec CIDv1 on IPFS); the token id.
    /// @param royaltyReceiver EIP-2981 royalty receiver; must be non-zero when `royaltyBps` > 0.
    /// @param royaltyBps Royalty in basis points, at most `MAX_ROYALTY_BPS`; 0 sets no royalty.
    /// @return tokenId `uint256(digest)`.
    function mint(address to, bytes32 digest, address royaltyReceiver, uint96 royaltyBps)
        external
        onlyRole(MINTER_ROLE)
        returns (uint256 tokenId)
    {
        _validate(digest, royaltyBps);
        tokenId = uint256(digest);
        if (_ownerOf(tokenId) != address(0)) revert TokenAlreadyMinted(tokenId);
        _mintWithRoyalty(to, tokenId, royaltyReceiver, royaltyBps);
    }

    /// @notice Mints many works at once, skipping those that already exist, so a retried batch is harmless.
    /// @dev Every request is validated, skipped or not: one invalid request reverts the whole batch.
    ///      Minted tokens are the ones with a `Transfer` from address(0) in the receipt.
    /// @param requests The mints to perform.
    /// @return minted How many tokens were minted (requests minus skipped ones).
    function mintBatch(MintRequest[] calldata requests) external onlyRole(MINTER_ROLE) returns (uint256 minted) {
        uint256 count = requests.length;
        if (count == 0) revert EmptyBatch();
        for (uint256 i; i < count; ++i) {
            MintRequest calldata request = requests[i];
            _validate(request.metadataDigest, request.royaltyBps);
            uint256 tokenId = uint256(request.metadataDigest);
            if (_ownerOf(tokenId) != address(0)) continue;
            _mintWithRoyalty(request.to, tokenId, request.royaltyReceiver, request.royaltyBps);
            unchecked {
                ++minted;
            }
        }
    }

    /// @notice Points the metadata of `tokenId` at a revised JSON document; the token id never changes.
    /// @param tokenId The token to revise.
    /// @param newDigest sha2-256 digest of the revised metadata JSON (raw-codec CIDv1 on IPFS).
    function updateMetadata(uint256 tokenId, bytes32 newDigest) external onlyRole(MINTER_ROLE) {
        if (newDigest == bytes32(0)) revert ZeroDigest();
        _requireOwned(tokenId);
        bytes32 previousDigest = _currentDigest(tokenId);
        _revisedDigest[tokenId] = newDigest;
        emit MetadataRevised(tokenId, previousDigest, newDigest);
        emit MetadataUpdate(tokenId);
    }

    // ------------------------------------------------------------------------------------------------
    // Transfers
    // ------------------------------------------------------------------------------------------------

    /// @notice Moves `tokenIds[i]` from `from[i]` to `to[i]` for every i, in one transaction: sales delivered
    ///         together, of one seller (the seller's wallet calls) or of several (an operator they approved calls).
    /// @dev Each move is exactly `safeTransferFrom(from[i], to[i], tokenIds[i])` with the caller's own authority
    ///      (owner, approved or operator) and the ERC-721 receiver check; nothing new is allowed. All or nothing:
    ///      one failed move reverts the batch, so a caller retries the moves one by one to isolate a bad one.
    /// @param from Current owner of each token.
    /// @param to Recipient of each token.
    /// @param tokenIds The tokens to move.
    function transferBatch(address[] calldata from, address[] calldata to, uint256[] calldata tokenIds) external {
        uint256 count = tokenIds.length;
        if (count == 0) revert EmptyBatch();
        if (from.length != count || to.length != count) revert BatchLengthMismatch(from.length, to.length, count);
        for (uint256 i; i < count; ++i) {
            safeTransferFrom(from[i], to[i], tokenIds[i]);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------

    /// @notice Returns `ipfs://bafkrei...`, the raw-codec CIDv1 of the token's current metadata digest.
    /// @param tokenId An existing token.
    /// @return The token's metadata URI.
    function tokenURI(uint256 tokenId) public view returns (string memory) {
        _requireOwned(tokenId);
        return RawCid.toIpfsUri(_currentDigest(tokenId));
    }

    /// @notice Returns the sha2-256 digest of the token's current metadata JSON.
    /// @param tokenId An existing token.
    /// @return The revised digest if the metadata was updated, else the digest the token was minted with.
    function metadataDigest(uint256 tokenId) external view returns (bytes32) {
        _requireOwned(tokenId);
        return _currentDigest(tokenId);
    }

    /// @notice Tells whether `tokenId` has been minted.
    /// @param tokenId Any token id.
    /// @return True if the token exists.
    function exists(uint256 tokenId) external view returns (bool) {
        return _ownerOf(tokenId) != address(0);
    }

    /// @notice EIP-2981: the royalty owed on a sale of `tokenId` at `salePrice`; (address(0), 0) for a token minted
    ///         without a royalty or never minted (there is no default royalty).
    /// @param tokenId Any token id.
    /// @param salePrice The sale price, in any unit.
    /// @return receiver Who is paid the royalty.
    /// @return amount The royalty, in the unit of `salePrice`, rounded down.
    function royaltyInfo(uint256 tokenId, uint256 salePrice) external view returns (address receiver, uint256 amount) {
        uint256 extra = _extraData(tokenId);
        uint256 bps = extra & type(uint16).max;
        if (bps == 0) return (address(0), 0);
        receiver = _receivers[extra >> _BPS_BITS];
        amount = Math.mulDiv(salePrice, bps, _FEE_DENOMINATOR);
    }

    /// @notice ERC-165: ERC-721 (+ metadata), ERC-2981 (0x2a55205a), AccessControl and ERC-4906 (0x49064906).
    /// @param interfaceId The interface identifier.
    /// @return True if the interface is supported.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(PackedERC721, AccessControl, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC2981).interfaceId || interfaceId == bytes4(0x49064906)
            || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    function _validate(bytes32 digest, uint96 royaltyBps) private pure {
        if (digest == bytes32(0)) revert ZeroDigest();
        if (royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
    }

    /// @dev Mints with the royalty in the token's word; `royaltyBps` was validated (at most MAX_ROYALTY_BPS).
    function _mintWithRoyalty(address to, uint256 tokenId, address royaltyReceiver, uint96 royaltyBps) private {
        if (royaltyBps == 0) {
            _mint(to, tokenId, 0);
            return;
        }
        if (royaltyReceiver == address(0)) revert ERC2981InvalidTokenRoyaltyReceiver(tokenId, address(0));
        // casting to 'uint96' is safe because the key is 80 bits and royaltyBps at most MAX_ROYALTY_BPS (< 2^16)
        // forge-lint: disable-next-line(unsafe-typecast)
        _mint(to, tokenId, uint96((_receiverKey(royaltyReceiver) << _BPS_BITS) | royaltyBps));
        emit TokenRoyaltySet(tokenId, royaltyReceiver, royaltyBps);
    }

    /// @dev The key of `receiver` in `_receivers`, registering it on its first royalty.
    function _receiverKey(address receiver) private returns (uint256 key) {
        assembly ("memory-safe") {
            mstore(0x00, receiver)
            key := shr(176, keccak256(0x00, 0x20))
        }
        while (true) {
            address held = _receivers[key];
            if (held == receiver) return key;
            if (held == address(0)) {
                _receivers[key] = receiver;
                return key;
            }
            unchecked {
                key = (key + 1) & _KEY_MASK;
            }
        }
    }

    function _currentDigest(uint256 tokenId) private view returns (bytes32 digest) {
        digest = _revisedDigest[tokenId];
        if (digest == bytes32(0)) digest = bytes32(tokenId);
    }
}
