// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {CreativeWorks} from "../../src/CreativeWorks.sol";

/// @notice Drives CreativeWorks like the marketplace does (mint, retried batches, metadata revisions) and
///         like collectors do (transfers between a fixed set of actors), keeping ghost state to check against.
contract CreativeWorksHandler is CommonBase, StdCheats, StdUtils {
    CreativeWorks public immutable works;
    address public immutable minter;
    address[] public actors;

    uint256[] public mintedIds;
    mapping(uint256 tokenId => bytes32 digest) public ghostDigest;
    uint256 public ghostRetriedSkips;
    /// The royalty each token was minted with: transfers must never change it.
    mapping(uint256 tokenId => address receiver) public ghostRoyaltyReceiver;
    mapping(uint256 tokenId => uint256 bps) public ghostRoyaltyBps;
    /// Last token minted or revised: the invariant decodes its tokenURI (decoding every token is slow).
    uint256 public lastTouched;

    /// Digests come from a small pool so that duplicates (and so skips and TokenAlreadyMinted) happen often.
    uint256 internal constant DIGEST_POOL = 48;

    constructor(CreativeWorks works_, address minter_) {
        works = works_;
        minter = minter_;
        for (uint256 i; i < 4; ++i) {
            actors.push(makeAddr(string.concat("actor", vm.toString(i))));
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function mintedCount() external view returns (uint256) {
        return mintedIds.length;
    }

    function _digest(uint256 seed) internal pure returns (bytes32) {
        return keccak256(abi.encode("metadata", seed % DIGEST_POOL));
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _record(uint256 tokenId, bytes32 digest, address receiver, uint96 bps) internal {
        mintedIds.push(tokenId);
        ghostDigest[tokenId] = digest;
        lastTouched = tokenId;
        if (bps != 0) (ghostRoyaltyReceiver[tokenId], ghostRoyaltyBps[tokenId]) = (receiver, bps);
    }

    function mint(uint256 actorSeed, uint256 digestSeed, uint96 bps) external {
        bytes32 digest = _digest(digestSeed);
        uint256 tokenId = uint256(digest);
        bps = uint96(_bound(bps, 0, works.MAX_ROYALTY_BPS()));
        address to = _actor(actorSeed);
        if (works.exists(tokenId)) {
            vm.expectRevert(abi.encodeWithSelector(CreativeWorks.TokenAlreadyMinted.selector, tokenId));
            vm.prank(minter);
            works.mint(to, digest, to, bps);
            return;
        }
        vm.prank(minter);
        works.mint(to, digest, to, bps);
        _record(tokenId, digest, to, bps);
    }

    function mintBatch(uint256 actorSeed, uint256 digestSeed, uint8 size, uint96 bps) external {
        uint256 n = _bound(size, 1, 6);
        bps = uint96(_bound(bps, 0, works.MAX_ROYALTY_BPS()));
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](n);
        uint256 expectNew;
        bytes32[] memory fresh = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 digest = _digest(digestSeed % DIGEST_POOL + i * 7);
            address to = _actor(actorSeed % actors.length + i);
            requests[i] = CreativeWorks.MintRequest(to, digest, makeAddr("royalties"), bps);
            bool seen = works.exists(uint256(digest));
            for (uint256 j; j < expectNew && !seen; ++j) {
                seen = fresh[j] == digest;
            }
            if (!seen) fresh[expectNew++] = digest;
        }
        vm.prank(minter);
        uint256 minted = works.mintBatch(requests);
        require(minted == expectNew, "mintBatch count differs from expected new tokens");
        ghostRetriedSkips += n - minted;
        for (uint256 i; i < minted; ++i) {
            _record(uint256(fresh[i]), fresh[i], makeAddr("royalties"), bps);
        }
    }

    function updateMetadata(uint256 tokenSeed, bytes32 newDigest) external {
        if (mintedIds.length == 0) return;
        if (newDigest == bytes32(0)) newDigest = bytes32(uint256(1));
        uint256 tokenId = mintedIds[tokenSeed % mintedIds.length];
        vm.prank(minter);
        works.updateMetadata(tokenId, newDigest);
        ghostDigest[tokenId] = newDigest;
        lastTouched = tokenId;
    }

    function transfer(uint256 tokenSeed, uint256 toSeed) external {
        if (mintedIds.length == 0) return;
        uint256 tokenId = mintedIds[tokenSeed % mintedIds.length];
        address from = works.ownerOf(tokenId);
        vm.prank(from);
        works.transferFrom(from, _actor(toSeed), tokenId);
    }

    /// A seller delivering several sales at once: every token the owner of a random token holds (up to 4),
    /// each to a different actor.
    function transferBatch(uint256 tokenSeed, uint256 toSeed) external {
        if (mintedIds.length == 0) return;
        address from = works.ownerOf(mintedIds[tokenSeed % mintedIds.length]);
        uint256[] memory held = new uint256[](4);
        uint256 k;
        for (uint256 i; i < mintedIds.length && k < 4; ++i) {
            if (works.ownerOf(mintedIds[i]) == from) held[k++] = mintedIds[i];
        }
        uint256[] memory ids = new uint256[](k);
        address[] memory owners = new address[](k);
        address[] memory to = new address[](k);
        for (uint256 i; i < k; ++i) {
            ids[i] = held[i];
            owners[i] = from;
            to[i] = _actor(toSeed % actors.length + i);
        }
        vm.prank(from);
        works.transferBatch(owners, to, ids);
    }
}
