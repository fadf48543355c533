// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {CreativeWorks} from "../src/CreativeWorks.sol";
import {CreativeWorksHandler} from "./handlers/CreativeWorksHandler.sol";
import {RawCidDecoder} from "./utils/RawCidDecoder.sol";

contract CreativeWorksInvariantTest is Test {
    CreativeWorks internal works;
    CreativeWorksHandler internal handler;

    function setUp() public {
        address minter = makeAddr("minter");
        works = new CreativeWorks("Luxembourg Creative Works", "LUXW", makeAddr("admin"), minter);
        handler = new CreativeWorksHandler(works, minter);
        targetContract(address(handler));
    }

    /// Tokens only ever go to actors and move between actors: their balances add up to every mint.
    function invariant_ActorBalancesSumToTokensMinted() public view {
        uint256 sum;
        for (uint256 i; i < handler.actorCount(); ++i) {
            sum += works.balanceOf(handler.actors(i));
        }
        assertEq(sum, handler.mintedCount());
    }

    function invariant_EveryMintedTokenIsOwnedByAnActor() public view {
        for (uint256 t; t < handler.mintedCount(); ++t) {
            address owner = works.ownerOf(handler.mintedIds(t));
            bool isActor;
            for (uint256 i; i < handler.actorCount(); ++i) {
                isActor = isActor || owner == handler.actors(i);
            }
            assertTrue(isActor, "token owned by a non-actor");
        }
    }

    function invariant_RoyaltyNeverAboveTwentyFivePercent() public view {
        for (uint256 t; t < handler.mintedCount(); ++t) {
            (, uint256 amount) = works.royaltyInfo(handler.mintedIds(t), 1 ether);
            assertLe(amount, 0.25 ether);
        }
    }

    /// The royalty is kept in the owner's storage word: whoever holds the token now, it is the one it was minted with.
    function invariant_RoyaltyStaysWithTheToken() public view {
        for (uint256 t; t < handler.mintedCount(); ++t) {
            uint256 id = handler.mintedIds(t);
            (address receiver, uint256 amount) = works.royaltyInfo(id, 10_000);
            assertEq(receiver, handler.ghostRoyaltyReceiver(id));
            assertEq(amount, handler.ghostRoyaltyBps(id));
        }
    }

    /// Every token reports its latest digest, whatever the order of mints and revisions, and the token
    /// touched last has a tokenURI naming the raw CID of that digest.
    function invariant_MetadataFollowsLatestDigest() public view {
        for (uint256 t; t < handler.mintedCount(); ++t) {
            uint256 id = handler.mintedIds(t);
            assertEq(works.metadataDigest(id), handler.ghostDigest(id));
        }
        uint256 last = handler.lastTouched();
        if (last == 0) return;
        (bytes4 header, bytes32 digest) = RawCidDecoder.decode(works.tokenURI(last));
        assertEq(header, bytes4(0x01551220));
        assertEq(digest, handler.ghostDigest(last));
    }
}
