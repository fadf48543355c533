// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

import {CreativeWorks} from "../src/CreativeWorks.sol";

/// A wallet contract that accepts tokens and keeps the data it was sent.
contract DataReceiver is IERC721Receiver {
    bytes public lastData;
    address public lastFrom;

    function onERC721Received(address, address from, uint256, bytes calldata data) external returns (bytes4) {
        lastFrom = from;
        lastData = data;
        return IERC721Receiver.onERC721Received.selector;
    }
}

/// A receiver that refuses with its own reason: safe transfers must bubble it up.
contract RefusingReceiver is IERC721Receiver {
    error NotToday();

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        revert NotToday();
    }
}

/// The one-word-per-token layout (owner | royalty bps | receiver key) and the ERC-721 core around it.
contract CreativeWorksPackingTest is Test {
    /// Storage slot of `_receivers` (forge inspect CreativeWorks storageLayout).
    uint256 internal constant RECEIVERS_SLOT = 8;
    uint96 internal constant MAX_BPS = 2500;

    CreativeWorks internal works;
    address internal admin = makeAddr("admin");
    address internal minter = makeAddr("minter");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal creator = makeAddr("creator");
    address internal split = makeAddr("split");

    function setUp() public {
        works = new CreativeWorks("Luxembourg Creative Works", "LUXW", admin, minter);
    }

    function _mint(address to, string memory label, address receiver, uint96 bps) internal returns (uint256) {
        vm.prank(minter);
        return works.mint(to, keccak256(bytes(label)), receiver, bps);
    }

    function _assertRoyalty(uint256 id, address receiver, uint256 bps) internal view {
        (address got, uint256 amount) = works.royaltyInfo(id, 1_000_000);
        assertEq(got, receiver, "royalty receiver");
        assertEq(amount, bps * 100, "royalty amount");
    }

    function _storageWrites(bytes memory call) internal returns (uint256) {
        vm.record();
        vm.prank(minter);
        (bool ok,) = address(works).call(call);
        assertTrue(ok, "call reverted");
        (, bytes32[] memory writes) = vm.accesses(address(works));
        return writes.length;
    }

    // ------------------------------------------------------------------------------------------
    // the royalty lives in the owner's word
    // ------------------------------------------------------------------------------------------

    function test_RoyaltyInfo_StaysWithTheTokenThroughEveryKindOfTransfer() public {
        uint256 id = _mint(alice, "work", creator, 750);
        vm.prank(alice);
        works.transferFrom(alice, bob, id);
        _assertRoyalty(id, creator, 750);
        vm.prank(bob);
        works.safeTransferFrom(bob, carol, id);
        _assertRoyalty(id, creator, 750);
        vm.prank(carol);
        works.approve(alice, id);
        vm.prank(alice); // the approved address moves it
        works.safeTransferFrom(carol, alice, id, "gift");
        _assertRoyalty(id, creator, 750);
        address[] memory from = new address[](1);
        address[] memory to = new address[](1);
        uint256[] memory moved = new uint256[](1);
        (from[0], to[0], moved[0]) = (alice, bob, id);
        vm.prank(alice);
        works.transferBatch(from, to, moved);
        _assertRoyalty(id, creator, 750);
        assertEq(works.ownerOf(id), bob);
        assertEq(works.balanceOf(bob), 1);
        assertEq(works.balanceOf(alice) + works.balanceOf(carol), 0);
    }

    function test_RoyaltyInfo_EditionsOfOneReceiverKeepTheirOwnBps() public {
        uint256 first = _mint(alice, "edition 1", creator, 500);
        uint256 second = _mint(bob, "edition 2", creator, 1000);
        uint256 other = _mint(bob, "split work", split, MAX_BPS);
        uint256 none = _mint(bob, "no royalty", creator, 0);
        _assertRoyalty(first, creator, 500);
        _assertRoyalty(second, creator, 1000);
        _assertRoyalty(other, split, MAX_BPS);
        _assertRoyalty(none, address(0), 0); // bps 0: the receiver given is ignored
        _assertRoyalty(uint256(keccak256("never minted")), address(0), 0);
    }

    function test_RoyaltyInfo_RoundsDownLikeOpenZeppelin() public {
        uint256 id = _mint(alice, "work", creator, 333);
        (, uint256 amount) = works.royaltyInfo(id, 99);
        assertEq(amount, 3); // 99 * 333 / 10000 = 3.2967
        (, amount) = works.royaltyInfo(id, type(uint256).max);
        assertEq(amount, type(uint256).max / 10_000 * 333 + (type(uint256).max % 10_000) * 333 / 10_000);
    }

    function test_RoyaltyReceiver_IsWrittenOnceForAllItsTokens() public {
        // the first royalty of a receiver writes 3 words: the token, the owner's balance, the receiver
        assertEq(_storageWrites(abi.encodeCall(CreativeWorks.mint, (alice, keccak256("e1"), creator, 500))), 3);
        // its next editions and works write 2, as a mint without royalty does
        assertEq(_storageWrites(abi.encodeCall(CreativeWorks.mint, (bob, keccak256("e2"), creator, 500))), 2);
        assertEq(_storageWrites(abi.encodeCall(CreativeWorks.mint, (carol, keccak256("w2"), creator, 90))), 2);
        assertEq(_storageWrites(abi.encodeCall(CreativeWorks.mint, (carol, keccak256("free"), address(0), 0))), 2);
        // in a batch too: one receiver write for the whole batch
        CreativeWorks.MintRequest[] memory batch = new CreativeWorks.MintRequest[](3);
        for (uint256 i; i < 3; ++i) {
            batch[i] = CreativeWorks.MintRequest(makeAddr(vm.toString(i)), keccak256(abi.encode(i)), split, 200);
        }
        assertEq(_storageWrites(abi.encodeCall(CreativeWorks.mintBatch, (batch))), 3 * 2 + 1);
        _assertRoyalty(uint256(keccak256(abi.encode(2))), split, 200);
    }

    function test_RoyaltyReceiver_KeyCollisionTakesTheNextFreeKey() public {
        // Pretend another receiver already holds the key `creator` would get.
        uint256 key = uint256(keccak256(abi.encode(creator))) >> 176;
        bytes32 slot = keccak256(abi.encode(key, RECEIVERS_SLOT));
        assertEq(vm.load(address(works), slot), bytes32(0), "RECEIVERS_SLOT is stale");
        vm.store(address(works), slot, bytes32(uint256(uint160(split))));
        uint256 id = _mint(alice, "work", creator, 400);
        _assertRoyalty(id, creator, 400);
        bytes32 next = keccak256(abi.encode(key + 1, RECEIVERS_SLOT));
        assertEq(vm.load(address(works), next), bytes32(uint256(uint160(creator))));
        // the holder of the first key is not disturbed, and creator's next token finds its key again
        assertEq(vm.load(address(works), slot), bytes32(uint256(uint160(split))));
        _assertRoyalty(_mint(bob, "work 2", creator, 100), creator, 100);
    }

    function test_RoyaltyBps_Limits() public {
        _assertRoyalty(_mint(alice, "one", creator, 1), creator, 1);
        _assertRoyalty(_mint(alice, "max", creator, MAX_BPS), creator, MAX_BPS);
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.RoyaltyTooHigh.selector, MAX_BPS + 1, MAX_BPS));
        vm.prank(minter);
        works.mint(alice, keccak256("over"), creator, MAX_BPS + 1);
        // bits above the 16 the word keeps are refused, never truncated into a small royalty
        uint96 wraps = uint96(1) << 16 | 100;
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.RoyaltyTooHigh.selector, wraps, MAX_BPS));
        vm.prank(minter);
        works.mint(alice, keccak256("wraps"), creator, wraps);
    }

    function test_TokenRoyaltySet_OncePerTokenWithARoyalty() public {
        vm.expectEmit(address(works));
        emit CreativeWorks.TokenRoyaltySet(uint256(keccak256("a")), creator, 500);
        _mint(alice, "a", creator, 500);
        vm.expectEmit(address(works));
        emit CreativeWorks.TokenRoyaltySet(uint256(keccak256("b")), creator, 600); // a known receiver: emitted too
        _mint(alice, "b", creator, 600);
        vm.recordLogs();
        _mint(alice, "c", creator, 0);
        assertEq(vm.getRecordedLogs().length, 1); // the Transfer only
    }

    // ------------------------------------------------------------------------------------------
    // ERC-721 core semantics (OpenZeppelin's errors and events)
    // ------------------------------------------------------------------------------------------

    function test_BalanceOfZeroAddressReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidOwner.selector, address(0)));
        works.balanceOf(address(0));
    }

    function test_NonexistentTokenReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(7)));
        works.ownerOf(7);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(7)));
        works.getApproved(7);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(7)));
        vm.prank(alice);
        works.approve(bob, 7);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(7)));
        vm.prank(alice);
        works.transferFrom(alice, bob, 7);
    }

    function test_Approve_LetsOneAddressMoveOneTokenOnce() public {
        uint256 id = _mint(alice, "work", creator, 500);
        uint256 other = _mint(alice, "other", creator, 500);
        vm.expectEmit(address(works));
        emit IERC721.Approval(alice, bob, id);
        vm.prank(alice);
        works.approve(bob, id);
        assertEq(works.getApproved(id), bob);
        assertEq(works.getApproved(other), address(0));

        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, other));
        vm.prank(bob);
        works.transferFrom(alice, bob, other);

        vm.recordLogs();
        vm.prank(bob);
        works.transferFrom(alice, carol, id);
        assertEq(vm.getRecordedLogs().length, 1, "a transfer clears the approval without an Approval event");
        assertEq(works.getApproved(id), address(0));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, id));
        vm.prank(bob);
        works.transferFrom(carol, bob, id);
    }

    function test_Approve_ByOperatorButNotByStranger() public {
        uint256 id = _mint(alice, "work", address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidApprover.selector, bob));
        vm.prank(bob);
        works.approve(bob, id);
        vm.prank(alice);
        works.setApprovalForAll(bob, true);
        vm.expectEmit(address(works));
        emit IERC721.Approval(alice, carol, id); // the owner is named, not the operator
        vm.prank(bob);
        works.approve(carol, id);
        assertEq(works.getApproved(id), carol);
    }

    function test_SetApprovalForAll_EmitsAndCanBeWithdrawn() public {
        uint256 id = _mint(alice, "work", creator, 500);
        vm.expectEmit(address(works));
        emit IERC721.ApprovalForAll(alice, bob, true);
        vm.prank(alice);
        works.setApprovalForAll(bob, true);
        assertTrue(works.isApprovedForAll(alice, bob));
        vm.expectEmit(address(works));
        emit IERC721.ApprovalForAll(alice, bob, false);
        vm.prank(alice);
        works.setApprovalForAll(bob, false);
        assertFalse(works.isApprovedForAll(alice, bob));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, id));
        vm.prank(bob);
        works.transferFrom(alice, bob, id);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidOperator.selector, address(0)));
        vm.prank(alice);
        works.setApprovalForAll(address(0), true);
    }

    function test_TransferFrom_ChecksReceiverAndOwner() public {
        uint256 id = _mint(alice, "work", creator, 500);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        vm.prank(alice);
        works.transferFrom(alice, address(0), id);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721IncorrectOwner.selector, bob, id, alice));
        vm.prank(alice);
        works.transferFrom(bob, carol, id);
        vm.expectEmit(address(works));
        emit IERC721.Transfer(alice, alice, id);
        vm.prank(alice);
        works.transferFrom(alice, alice, id); // to oneself: allowed, balance unchanged
        assertEq(works.balanceOf(alice), 1);
    }

    function test_SafeTransferFrom_PassesDataAndBubblesRefusals() public {
        uint256 id = _mint(alice, "work", creator, 500);
        DataReceiver wallet = new DataReceiver();
        vm.prank(alice);
        works.safeTransferFrom(alice, address(wallet), id, "hello");
        assertEq(wallet.lastData(), "hello");
        assertEq(wallet.lastFrom(), alice);
        RefusingReceiver refusing = new RefusingReceiver();
        vm.expectRevert(RefusingReceiver.NotToday.selector);
        vm.prank(address(wallet));
        works.safeTransferFrom(address(wallet), address(refusing), id);
        // plain transferFrom does not ask the receiver
        vm.prank(address(wallet));
        works.transferFrom(address(wallet), address(refusing), id);
        assertEq(works.ownerOf(id), address(refusing));
        _assertRoyalty(id, creator, 500);
    }

    // ------------------------------------------------------------------------------------------
    // fuzz: the contract against a plain reference model
    // ------------------------------------------------------------------------------------------

    uint256 internal constant ACTORS = 4;
    uint256 internal constant RECEIVERS = 3;
    uint256 internal constant STEPS = 40;

    address[ACTORS] internal actor;
    address[RECEIVERS] internal payee;
    uint256[] internal ids;
    mapping(uint256 id => address) internal modelOwner;
    mapping(uint256 id => address) internal modelApproved;
    mapping(uint256 id => address) internal modelReceiver;
    mapping(uint256 id => uint256) internal modelBps;
    mapping(address owner => mapping(address operator => bool)) internal modelOperator;
    mapping(address owner => uint256) internal modelBalance;

    /// Random mints (random owner, receiver and bps, some repeated digests), transfers by the owner, an approved
    /// address, an operator or a stranger, approvals and operator grants: after every step each token's owner,
    /// approval and royalty and each actor's balance are what a plain model of ERC-721 + EIP-2981 says.
    function testFuzz_MatchesAReferenceModel(uint256 seed) public {
        for (uint256 i; i < ACTORS; ++i) {
            actor[i] = makeAddr(string.concat("actor", vm.toString(i)));
        }
        for (uint256 i; i < RECEIVERS; ++i) {
            payee[i] = makeAddr(string.concat("payee", vm.toString(i)));
        }
        for (uint256 step; step < STEPS; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 op = r % 5;
            if (op == 0 || ids.length == 0) _modelMint(r);
            else if (op == 1) _modelApprove(r);
            else if (op == 2) _modelOperator(r);
            else _modelTransfer(r);
            _checkModel();
        }
    }

    function _pick(uint256 r, uint256 shift, uint256 n) internal pure returns (uint256) {
        return (r >> shift) % n;
    }

    function _modelMint(uint256 r) internal {
        bytes32 digest = keccak256(abi.encode("model", _pick(r, 8, 24))); // repeats: TokenAlreadyMinted
        uint256 id = uint256(digest);
        address to = actor[_pick(r, 16, ACTORS)];
        address receiver = payee[_pick(r, 24, RECEIVERS)];
        uint96 bps = uint96(_pick(r, 32, MAX_BPS + 1));
        if (_pick(r, 48, 4) == 0) bps = 0;
        if (modelOwner[id] != address(0)) {
            vm.expectRevert(abi.encodeWithSelector(CreativeWorks.TokenAlreadyMinted.selector, id));
        } else {
            ids.push(id);
            modelOwner[id] = to;
            modelBalance[to] += 1;
            if (bps != 0) (modelReceiver[id], modelBps[id]) = (receiver, bps);
        }
        vm.prank(minter);
        works.mint(to, digest, receiver, bps);
    }

    function _modelApprove(uint256 r) internal {
        uint256 id = ids[_pick(r, 8, ids.length)];
        address caller = actor[_pick(r, 16, ACTORS)];
        address spender = actor[_pick(r, 24, ACTORS)];
        address owner = modelOwner[id];
        if (caller != owner && !modelOperator[owner][caller]) {
            vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidApprover.selector, caller));
        } else {
            modelApproved[id] = spender;
        }
        vm.prank(caller);
        works.approve(spender, id);
    }

    function _modelOperator(uint256 r) internal {
        address owner = actor[_pick(r, 8, ACTORS)];
        address operator = actor[_pick(r, 16, ACTORS)];
        bool approved = _pick(r, 24, 2) == 0;
        modelOperator[owner][operator] = approved;
        vm.prank(owner);
        works.setApprovalForAll(operator, approved);
    }

    function _modelTransfer(uint256 r) internal {
        uint256 id = ids[_pick(r, 8, ids.length)];
        address caller = actor[_pick(r, 16, ACTORS)];
        address to = actor[_pick(r, 24, ACTORS)];
        address owner = modelOwner[id];
        // usually the true owner as `from`, sometimes another actor
        address from = _pick(r, 32, 5) == 0 ? actor[_pick(r, 40, ACTORS)] : owner;
        bool allowed = caller == owner || modelApproved[id] == caller || modelOperator[owner][caller];
        if (!allowed) {
            vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, caller, id));
        } else if (from != owner) {
            vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721IncorrectOwner.selector, from, id, owner));
        } else {
            modelOwner[id] = to;
            modelApproved[id] = address(0);
            modelBalance[from] -= 1;
            modelBalance[to] += 1;
        }
        vm.prank(caller);
        if (_pick(r, 48, 2) == 0) works.transferFrom(from, to, id);
        else works.safeTransferFrom(from, to, id);
    }

    function _checkModel() internal view {
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            assertEq(works.ownerOf(id), modelOwner[id], "owner");
            assertEq(works.getApproved(id), modelApproved[id], "approved");
            (address receiver, uint256 amount) = works.royaltyInfo(id, 10_000);
            assertEq(receiver, modelReceiver[id], "royalty receiver");
            assertEq(amount, modelBps[id], "royalty bps");
        }
        for (uint256 i; i < ACTORS; ++i) {
            assertEq(works.balanceOf(actor[i]), modelBalance[actor[i]], "balance");
            for (uint256 j; j < ACTORS; ++j) {
                assertEq(works.isApprovedForAll(actor[i], actor[j]), modelOperator[actor[i]][actor[j]], "operator");
            }
        }
    }
}
