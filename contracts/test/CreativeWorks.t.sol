// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, Vm} from "forge-std/Test.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";

import {CreativeWorks} from "../src/CreativeWorks.sol";
import {BaselineEditions1155} from "../src/bench/BaselineEditions1155.sol";
import {BaselineURIStorage} from "../src/bench/BaselineURIStorage.sol";
import {RawCidDecoder} from "./utils/RawCidDecoder.sol";

/// A wallet contract that accepts ERC-721 tokens and remembers the last one it got.
contract AcceptingReceiver is IERC721Receiver {
    uint256 public lastTokenId;
    address public lastOperator;

    function onERC721Received(address operator, address, uint256 tokenId, bytes calldata)
        external
        returns (bytes4)
    {
        lastOperator = operator;
        lastTokenId = tokenId;
        return IERC721Receiver.onERC721Received.selector;
    }
}

/// A contract without onERC721Received: a safe transfer to it must revert.
contract NotAReceiver {}

contract CreativeWorksTest is Test {
    // sha256("hello world") and its raw-codec CIDv1 (the IPFS "hello world" vector).
    bytes32 internal constant HELLO_DIGEST = 0xb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9;
    string internal constant HELLO_URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    // sha256("") and its raw-codec CIDv1.
    bytes32 internal constant EMPTY_DIGEST = 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;
    string internal constant EMPTY_URI = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    bytes4 internal constant CID_HEADER = 0x01551220;
    uint96 internal constant MAX_BPS = 2500;

    CreativeWorks internal works;
    BaselineURIStorage internal baseline;

    address internal admin = makeAddr("admin");
    address internal minter = makeAddr("minter");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal creator = makeAddr("creator");
    address internal stranger = makeAddr("stranger");

    function setUp() public {
        works = new CreativeWorks("Luxembourg Creative Works", "LUXW", admin, minter);
        baseline = new BaselineURIStorage("Baseline", "BASE", minter);
    }

    // ------------------------------------------------------------------------------------------
    // helpers
    // ------------------------------------------------------------------------------------------

    function _mint(address to, bytes32 digest) internal returns (uint256) {
        vm.prank(minter);
        return works.mint(to, digest, address(0), 0);
    }

    function _request(address to, bytes32 digest, address receiver, uint96 bps)
        internal
        pure
        returns (CreativeWorks.MintRequest memory)
    {
        return CreativeWorks.MintRequest({to: to, metadataDigest: digest, royaltyReceiver: receiver, royaltyBps: bps});
    }

    function _countMints(Vm.Log[] memory logs) internal pure returns (uint256 n) {
        bytes32 transferTopic = keccak256("Transfer(address,address,uint256)");
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == transferTopic && logs[i].topics[1] == bytes32(0)) ++n;
        }
    }

    // ------------------------------------------------------------------------------------------
    // construction and roles
    // ------------------------------------------------------------------------------------------

    function test_Constructor_SetsNameSymbolAndRoles() public view {
        assertEq(works.name(), "Luxembourg Creative Works");
        assertEq(works.symbol(), "LUXW");
        assertTrue(works.hasRole(works.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(works.hasRole(works.MINTER_ROLE(), minter));
        assertFalse(works.hasRole(works.MINTER_ROLE(), admin));
        assertFalse(works.hasRole(works.DEFAULT_ADMIN_ROLE(), minter));
        assertEq(works.MAX_ROYALTY_BPS(), MAX_BPS);
    }

    function test_AdminCanGrantAndRevokeMinter() public {
        bytes32 role = works.MINTER_ROLE();
        vm.startPrank(admin);
        works.grantRole(role, bob);
        vm.stopPrank();
        vm.prank(bob);
        works.mint(alice, HELLO_DIGEST, address(0), 0);
        assertEq(works.ownerOf(uint256(HELLO_DIGEST)), alice);

        vm.prank(admin);
        works.revokeRole(role, bob);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, role));
        vm.prank(bob);
        works.mint(alice, EMPTY_DIGEST, address(0), 0);
    }

    function test_RevertWhen_MintCallerLacksMinterRole() public {
        bytes32 role = works.MINTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        works.mint(alice, HELLO_DIGEST, address(0), 0);
    }

    function test_RevertWhen_MintBatchCallerLacksMinterRole() public {
        bytes32 role = works.MINTER_ROLE();
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](1);
        requests[0] = _request(alice, HELLO_DIGEST, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        works.mintBatch(requests);
    }

    function test_RevertWhen_UpdateMetadataCallerLacksMinterRole() public {
        uint256 id = _mint(alice, HELLO_DIGEST);
        bytes32 role = works.MINTER_ROLE();
        // Not even the token owner may revise metadata.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        works.updateMetadata(id, EMPTY_DIGEST);
    }

    // ------------------------------------------------------------------------------------------
    // mint
    // ------------------------------------------------------------------------------------------

    function test_Mint_TokenIdIsDigestAndOwnerIsRecipient() public {
        vm.expectEmit(address(works));
        emit IERC721.Transfer(address(0), alice, uint256(HELLO_DIGEST));
        uint256 id = _mint(alice, HELLO_DIGEST);

        assertEq(id, uint256(HELLO_DIGEST));
        assertEq(works.ownerOf(id), alice);
        assertEq(works.balanceOf(alice), 1);
        assertTrue(works.exists(id));
        assertEq(works.metadataDigest(id), HELLO_DIGEST);
    }

    function test_TokenURI_IsRawCidOfHelloWorldVector() public {
        assertEq(sha256(bytes("hello world")), HELLO_DIGEST);
        uint256 id = _mint(alice, HELLO_DIGEST);
        assertEq(works.tokenURI(id), HELLO_URI);
    }

    function test_TokenURI_IsRawCidOfEmptyContentVector() public {
        assertEq(sha256(""), EMPTY_DIGEST);
        uint256 id = _mint(alice, EMPTY_DIGEST);
        assertEq(works.tokenURI(id), EMPTY_URI);
    }

    function test_RevertWhen_TokenURIOfUnknownToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(HELLO_DIGEST)));
        works.tokenURI(uint256(HELLO_DIGEST));
    }

    function test_RevertWhen_MetadataDigestOfUnknownToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(1)));
        works.metadataDigest(1);
    }

    function test_Exists_FalseBeforeTrueAfterMint() public {
        assertFalse(works.exists(uint256(HELLO_DIGEST)));
        _mint(alice, HELLO_DIGEST);
        assertTrue(works.exists(uint256(HELLO_DIGEST)));
    }

    function test_RevertWhen_MintingSameDigestTwice() public {
        _mint(alice, HELLO_DIGEST);
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.TokenAlreadyMinted.selector, uint256(HELLO_DIGEST)));
        vm.prank(minter);
        works.mint(bob, HELLO_DIGEST, address(0), 0);
        assertEq(works.ownerOf(uint256(HELLO_DIGEST)), alice);
    }

    function test_RevertWhen_MintingZeroDigest() public {
        vm.expectRevert(CreativeWorks.ZeroDigest.selector);
        vm.prank(minter);
        works.mint(alice, bytes32(0), address(0), 0);
    }

    function test_RevertWhen_MintingToZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        vm.prank(minter);
        works.mint(address(0), HELLO_DIGEST, address(0), 0);
    }

    function test_RoyaltyInfo_PerTokenRoyalty() public {
        vm.expectEmit(address(works));
        emit CreativeWorks.TokenRoyaltySet(uint256(HELLO_DIGEST), creator, 750);
        vm.prank(minter);
        uint256 id = works.mint(alice, HELLO_DIGEST, creator, 750);
        (address receiver, uint256 amount) = works.royaltyInfo(id, 1 ether);
        assertEq(receiver, creator);
        assertEq(amount, 0.075 ether);

        // Another token without royalty pays nothing (no default royalty is set).
        uint256 other = _mint(alice, EMPTY_DIGEST);
        (receiver, amount) = works.royaltyInfo(other, 1 ether);
        assertEq(receiver, address(0));
        assertEq(amount, 0);
    }

    function test_RoyaltyInfo_AtMaximum() public {
        vm.prank(minter);
        uint256 id = works.mint(alice, HELLO_DIGEST, creator, MAX_BPS);
        (, uint256 amount) = works.royaltyInfo(id, 10_000);
        assertEq(amount, 2_500);
    }

    function test_RevertWhen_RoyaltyAboveMaximum() public {
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.RoyaltyTooHigh.selector, MAX_BPS + 1, MAX_BPS));
        vm.prank(minter);
        works.mint(alice, HELLO_DIGEST, creator, MAX_BPS + 1);
    }

    function test_RevertWhen_RoyaltyReceiverIsZero() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC2981.ERC2981InvalidTokenRoyaltyReceiver.selector, uint256(HELLO_DIGEST), address(0)
            )
        );
        vm.prank(minter);
        works.mint(alice, HELLO_DIGEST, address(0), 100);
    }

    // ------------------------------------------------------------------------------------------
    // mintBatch
    // ------------------------------------------------------------------------------------------

    function test_MintBatch_MintsEveryRequest() public {
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](3);
        requests[0] = _request(alice, HELLO_DIGEST, creator, 500);
        requests[1] = _request(bob, EMPTY_DIGEST, address(0), 0);
        requests[2] = _request(alice, keccak256("third"), creator, MAX_BPS);

        vm.recordLogs();
        vm.prank(minter);
        uint256 minted = works.mintBatch(requests);

        assertEq(minted, 3);
        assertEq(_countMints(vm.getRecordedLogs()), 3);
        assertEq(works.balanceOf(alice), 2);
        assertEq(works.ownerOf(uint256(EMPTY_DIGEST)), bob);
        (address receiver, uint256 amount) = works.royaltyInfo(uint256(HELLO_DIGEST), 10_000);
        assertEq(receiver, creator);
        assertEq(amount, 500);
        assertEq(works.tokenURI(uint256(HELLO_DIGEST)), HELLO_URI);
    }

    function test_MintBatch_RetrySkipsAlreadyMintedTokens() public {
        _mint(alice, HELLO_DIGEST);
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](2);
        requests[0] = _request(bob, HELLO_DIGEST, creator, 100); // exists: skipped, owner stays alice
        requests[1] = _request(bob, EMPTY_DIGEST, address(0), 0);

        vm.recordLogs();
        vm.prank(minter);
        uint256 minted = works.mintBatch(requests);
        assertEq(minted, 1);
        assertEq(_countMints(vm.getRecordedLogs()), 1);
        assertEq(works.ownerOf(uint256(HELLO_DIGEST)), alice);
        assertEq(works.ownerOf(uint256(EMPTY_DIGEST)), bob);
        (address receiver,) = works.royaltyInfo(uint256(HELLO_DIGEST), 10_000);
        assertEq(receiver, address(0)); // the skipped request's royalty was not applied

        // The whole batch again: nothing to do, no Transfer, no revert.
        vm.recordLogs();
        vm.prank(minter);
        minted = works.mintBatch(requests);
        assertEq(minted, 0);
        assertEq(_countMints(vm.getRecordedLogs()), 0);
        assertEq(works.balanceOf(bob), 1);
    }

    function test_MintBatch_DuplicateWithinBatchMintsOnce() public {
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](2);
        requests[0] = _request(alice, HELLO_DIGEST, address(0), 0);
        requests[1] = _request(bob, HELLO_DIGEST, address(0), 0);
        vm.prank(minter);
        assertEq(works.mintBatch(requests), 1);
        assertEq(works.ownerOf(uint256(HELLO_DIGEST)), alice);
    }

    function test_RevertWhen_MintBatchIsEmpty() public {
        vm.expectRevert(CreativeWorks.EmptyBatch.selector);
        vm.prank(minter);
        works.mintBatch(new CreativeWorks.MintRequest[](0));
    }

    function test_RevertWhen_MintBatchHasRoyaltyAboveMaximum() public {
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](2);
        requests[0] = _request(alice, HELLO_DIGEST, creator, 100);
        requests[1] = _request(alice, EMPTY_DIGEST, creator, 2501);
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.RoyaltyTooHigh.selector, uint96(2501), MAX_BPS));
        vm.prank(minter);
        works.mintBatch(requests);
        assertFalse(works.exists(uint256(HELLO_DIGEST))); // the valid first request was rolled back too
    }

    function test_RevertWhen_MintBatchHasZeroDigest() public {
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](2);
        requests[0] = _request(alice, HELLO_DIGEST, address(0), 0);
        requests[1] = _request(alice, bytes32(0), address(0), 0);
        vm.expectRevert(CreativeWorks.ZeroDigest.selector);
        vm.prank(minter);
        works.mintBatch(requests);
    }

    function test_RevertWhen_MintBatchSkippedRequestIsInvalid() public {
        // Validation does not depend on chain state: an invalid request is refused even if its token exists.
        _mint(alice, HELLO_DIGEST);
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](1);
        requests[0] = _request(alice, HELLO_DIGEST, creator, 9000);
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.RoyaltyTooHigh.selector, uint96(9000), MAX_BPS));
        vm.prank(minter);
        works.mintBatch(requests);
    }

    // ------------------------------------------------------------------------------------------
    // updateMetadata
    // ------------------------------------------------------------------------------------------

    function test_UpdateMetadata_ChangesUriButNotTokenId() public {
        uint256 id = _mint(alice, HELLO_DIGEST);

        vm.expectEmit(address(works));
        emit CreativeWorks.MetadataRevised(id, HELLO_DIGEST, EMPTY_DIGEST);
        vm.expectEmit(address(works));
        emit IERC4906.MetadataUpdate(id);
        vm.prank(minter);
        works.updateMetadata(id, EMPTY_DIGEST);

        assertEq(works.tokenURI(id), EMPTY_URI);
        assertEq(works.metadataDigest(id), EMPTY_DIGEST);
        assertEq(works.ownerOf(id), alice);
        // The new digest is not a token: minting the old digest again is still refused.
        assertFalse(works.exists(uint256(EMPTY_DIGEST)));
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.TokenAlreadyMinted.selector, id));
        vm.prank(minter);
        works.mint(bob, HELLO_DIGEST, address(0), 0);
    }

    function test_UpdateMetadata_BackToOriginalDigest() public {
        uint256 id = _mint(alice, HELLO_DIGEST);
        vm.startPrank(minter);
        works.updateMetadata(id, EMPTY_DIGEST);
        vm.expectEmit(address(works));
        emit CreativeWorks.MetadataRevised(id, EMPTY_DIGEST, HELLO_DIGEST);
        works.updateMetadata(id, HELLO_DIGEST);
        vm.stopPrank();
        assertEq(works.tokenURI(id), HELLO_URI);
    }

    function test_RevertWhen_UpdateMetadataOfUnknownToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(HELLO_DIGEST)));
        vm.prank(minter);
        works.updateMetadata(uint256(HELLO_DIGEST), EMPTY_DIGEST);
    }

    function test_RevertWhen_UpdateMetadataToZeroDigest() public {
        uint256 id = _mint(alice, HELLO_DIGEST);
        vm.expectRevert(CreativeWorks.ZeroDigest.selector);
        vm.prank(minter);
        works.updateMetadata(id, bytes32(0));
    }

    // ------------------------------------------------------------------------------------------
    // ERC-165
    // ------------------------------------------------------------------------------------------

    function test_SupportsInterface() public view {
        assertTrue(works.supportsInterface(0x01ffc9a7)); // ERC-165
        assertTrue(works.supportsInterface(0x80ac58cd)); // ERC-721
        assertTrue(works.supportsInterface(0x5b5e139f)); // ERC-721 metadata
        assertTrue(works.supportsInterface(0x2a55205a)); // ERC-2981
        assertTrue(works.supportsInterface(0x7965db0b)); // AccessControl
        assertTrue(works.supportsInterface(0x49064906)); // ERC-4906
        assertFalse(works.supportsInterface(0x780e9d63)); // ERC-721 enumerable: not implemented
        assertFalse(works.supportsInterface(0xffffffff));
    }

    // ------------------------------------------------------------------------------------------
    // transferBatch
    // ------------------------------------------------------------------------------------------

    function _mintMany(address to, uint256 n) internal returns (uint256[] memory ids) {
        ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _mint(to, keccak256(abi.encode("batch", i)));
        }
    }

    function _each(address owner, uint256 n) internal pure returns (address[] memory from) {
        from = new address[](n);
        for (uint256 i; i < n; ++i) {
            from[i] = owner;
        }
    }

    function _fresh(uint256 n) internal returns (address[] memory to) {
        to = new address[](n);
        for (uint256 i; i < n; ++i) {
            to[i] = makeAddr(string(abi.encode("buyer", i)));
        }
    }

    function test_TransferBatch_OwnerMovesEachTokenToItsRecipient() public {
        uint256[] memory ids = _mintMany(creator, 3);
        address[] memory to = new address[](3);
        (to[0], to[1], to[2]) = (alice, bob, alice);

        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(address(works));
            emit IERC721.Transfer(creator, to[i], ids[i]);
        }
        vm.prank(creator);
        works.transferBatch(_each(creator, ids.length), to, ids);

        for (uint256 i; i < 3; ++i) {
            assertEq(works.ownerOf(ids[i]), to[i]);
        }
        assertEq(works.balanceOf(creator), 0);
        assertEq(works.balanceOf(alice), 2);
        assertEq(works.balanceOf(bob), 1);
    }

    function test_TransferBatch_ApprovedOperatorMayMove() public {
        uint256[] memory ids = _mintMany(creator, 2);
        vm.prank(creator);
        works.setApprovalForAll(minter, true);
        vm.prank(minter);
        works.transferBatch(_each(creator, ids.length), _fresh(2), ids);
        assertEq(works.balanceOf(creator), 0);
    }

    function test_RevertWhen_TransferBatchCallerIsNotAuthorised() public {
        uint256[] memory ids = _mintMany(creator, 2);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, stranger, ids[0]));
        vm.prank(stranger);
        works.transferBatch(_each(creator, ids.length), _fresh(2), ids);
        assertEq(works.balanceOf(creator), 2);
    }

    function test_RevertWhen_TransferBatchHoldsATokenFromSomeoneElse_NothingMoves() public {
        uint256[] memory ids = _mintMany(creator, 3);
        vm.prank(creator);
        works.transferFrom(creator, bob, ids[2]); // sold elsewhere meanwhile
        vm.prank(bob);
        works.setApprovalForAll(creator, true); // even as bob's operator, `from` must be the owner
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721IncorrectOwner.selector, creator, ids[2], bob));
        vm.prank(creator);
        works.transferBatch(_each(creator, ids.length), _fresh(3), ids);
        assertEq(works.ownerOf(ids[0]), creator); // the first two were rolled back
        assertEq(works.ownerOf(ids[1]), creator);
    }

    function test_TransferBatch_ChecksContractReceivers() public {
        uint256[] memory ids = _mintMany(creator, 2);
        AcceptingReceiver wallet = new AcceptingReceiver();
        NotAReceiver plain = new NotAReceiver();
        address[] memory to = new address[](2);
        (to[0], to[1]) = (address(wallet), address(plain));

        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(plain)));
        vm.prank(creator);
        works.transferBatch(_each(creator, ids.length), to, ids);
        assertEq(works.ownerOf(ids[0]), creator);

        to[1] = alice;
        vm.prank(creator);
        works.transferBatch(_each(creator, ids.length), to, ids);
        assertEq(works.ownerOf(ids[0]), address(wallet));
        assertEq(wallet.lastTokenId(), ids[0]);
        assertEq(wallet.lastOperator(), creator);
    }

    function test_TransferBatch_OperatorMovesTokensOfSeveralOwners() public {
        uint256[] memory ids = new uint256[](3);
        address[] memory from = new address[](3);
        (from[0], from[1], from[2]) = (creator, alice, creator);
        for (uint256 i; i < 3; ++i) {
            ids[i] = _mint(from[i], keccak256(abi.encode("owners", i)));
        }
        vm.prank(creator);
        works.setApprovalForAll(minter, true);
        vm.prank(alice);
        works.setApprovalForAll(minter, true);
        address[] memory to = _fresh(3);
        vm.prank(minter);
        works.transferBatch(from, to, ids);
        for (uint256 i; i < 3; ++i) {
            assertEq(works.ownerOf(ids[i]), to[i]);
        }
    }

    function test_RevertWhen_TransferBatchHasAnOwnerWhoDidNotApprove_NothingMoves() public {
        uint256 mine = _mint(creator, keccak256("approved"));
        uint256 theirs = _mint(alice, keccak256("not approved"));
        vm.prank(creator);
        works.setApprovalForAll(minter, true);
        address[] memory from = new address[](2);
        (from[0], from[1]) = (creator, alice);
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (mine, theirs);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, minter, theirs));
        vm.prank(minter);
        works.transferBatch(from, _fresh(2), ids);
        assertEq(works.ownerOf(mine), creator);
    }

    function test_RevertWhen_TransferBatchIsEmpty() public {
        vm.expectRevert(CreativeWorks.EmptyBatch.selector);
        vm.prank(creator);
        works.transferBatch(new address[](0), new address[](0), new uint256[](0));
    }

    function test_RevertWhen_TransferBatchLengthsDiffer() public {
        uint256[] memory ids = _mintMany(creator, 2);
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.BatchLengthMismatch.selector, 2, 3, 2));
        vm.prank(creator);
        works.transferBatch(_each(creator, 2), _fresh(3), ids);
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.BatchLengthMismatch.selector, 1, 2, 2));
        vm.prank(creator);
        works.transferBatch(_each(creator, 1), _fresh(2), ids);
    }

    function testFuzz_TransferBatch_MovesExactlyTheBatch(uint8 minted, uint8 moved) public {
        uint256 n = bound(minted, 1, 16);
        uint256 k = bound(moved, 1, n);
        uint256[] memory all = _mintMany(creator, n);
        uint256[] memory ids = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            ids[i] = all[i];
        }
        address[] memory to = _fresh(k);
        vm.prank(creator);
        works.transferBatch(_each(creator, ids.length), to, ids);
        assertEq(works.balanceOf(creator), n - k);
        for (uint256 i; i < n; ++i) {
            assertEq(works.ownerOf(all[i]), i < k ? to[i] : creator);
        }
    }

    // ------------------------------------------------------------------------------------------
    // fuzz
    // ------------------------------------------------------------------------------------------

    function testFuzz_TokenURI_DecodesBackToDigest(bytes32 digest) public {
        vm.assume(digest != bytes32(0));
        uint256 id = _mint(alice, digest);
        string memory uri = works.tokenURI(id);

        (bytes4 header, bytes32 decoded) = RawCidDecoder.decode(uri);
        assertEq(header, CID_HEADER);
        assertEq(decoded, digest);
        assertEq(_prefix(uri, 14), "ipfs://bafkrei");
    }

    function testFuzz_UpdateMetadata_TokenURIFollowsNewDigest(bytes32 digest, bytes32 newDigest) public {
        vm.assume(digest != bytes32(0) && newDigest != bytes32(0));
        uint256 id = _mint(alice, digest);
        vm.prank(minter);
        works.updateMetadata(id, newDigest);
        (, bytes32 decoded) = RawCidDecoder.decode(works.tokenURI(id));
        assertEq(decoded, newDigest);
        assertEq(works.metadataDigest(id), newDigest);
        assertEq(id, uint256(digest));
    }

    function testFuzz_RoyaltyInfo_WithinBounds(uint96 bps, uint256 salePrice) public {
        bps = uint96(bound(bps, 1, MAX_BPS));
        vm.prank(minter);
        uint256 id = works.mint(alice, HELLO_DIGEST, creator, bps);
        (address receiver, uint256 amount) = works.royaltyInfo(id, salePrice);
        assertEq(receiver, creator);
        assertLe(amount, salePrice / 4);
        if (salePrice <= type(uint128).max) assertEq(amount, salePrice * bps / 10_000);
    }

    function testFuzz_RevertWhen_RoyaltyAboveMaximum(uint96 bps) public {
        bps = uint96(bound(bps, MAX_BPS + 1, type(uint96).max));
        vm.expectRevert(abi.encodeWithSelector(CreativeWorks.RoyaltyTooHigh.selector, bps, MAX_BPS));
        vm.prank(minter);
        works.mint(alice, HELLO_DIGEST, creator, bps);
    }

    function testFuzz_MintBatch_MintsOnlyMissingTokens(uint8 total, uint8 premintedSeed) public {
        uint256 n = bound(total, 1, 12);
        uint256 preminted = bound(premintedSeed, 0, n);
        CreativeWorks.MintRequest[] memory requests = new CreativeWorks.MintRequest[](n);
        for (uint256 i; i < n; ++i) {
            // casting to 'uint96' is safe because i < 12
            // forge-lint: disable-next-line(unsafe-typecast)
            requests[i] = _request(bob, keccak256(abi.encode("work", i)), creator, uint96(i) * 100);
            if (i < preminted) _mint(alice, requests[i].metadataDigest);
        }
        vm.prank(minter);
        assertEq(works.mintBatch(requests), n - preminted);
        assertEq(works.balanceOf(alice), preminted);
        assertEq(works.balanceOf(bob), n - preminted);
    }

    function _prefix(string memory s, uint256 len) internal pure returns (string memory) {
        bytes memory out = new bytes(len);
        for (uint256 i; i < len; ++i) {
            out[i] = bytes(s)[i];
        }
        return string(out);
    }

    // ------------------------------------------------------------------------------------------
    // gas: content-addressed mint vs. a stored-URI mint
    // ------------------------------------------------------------------------------------------

    /// Gas of `data` sent to `target` as its own transaction: cold storage (as in a fresh transaction),
    /// execution gas of the call, plus the 21000 base and calldata cost a real transaction pays.
    function _txGas(address target, bytes memory data) internal returns (uint256 gas) {
        return _txGasAs(minter, target, data);
    }

    function _txGasAs(address caller, address target, bytes memory data) internal returns (uint256 gas) {
        vm.cool(target);
        vm.prank(caller);
        (bool ok,) = target.call(data);
        assertTrue(ok, "measured call reverted");
        gas = vm.lastCallGas().gasTotalUsed + 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    /// The product goal: a mint costs at most 0.6x a plain OZ ERC721URIStorage mint of the same
    /// `ipfs://` URI, same fresh recipient state, with or without a per-token royalty.
    function test_Gas_MintCostsAtMostSixtyPercentOfUriStorageMint() public {
        uint256 baselineGas = _txGas(
            address(baseline),
            abi.encodeCall(BaselineURIStorage.mint, (makeAddr("fresh1"), uint256(HELLO_DIGEST), HELLO_URI))
        );
        uint256 plainGas = _txGas(
            address(works), abi.encodeCall(CreativeWorks.mint, (makeAddr("fresh2"), HELLO_DIGEST, address(0), 0))
        );
        uint256 royaltyGas = _txGas(
            address(works), abi.encodeCall(CreativeWorks.mint, (makeAddr("fresh3"), EMPTY_DIGEST, creator, 500))
        );

        emit log_named_uint("BaselineURIStorage.mint tx gas", baselineGas);
        emit log_named_uint("CreativeWorks.mint tx gas, no royalty", plainGas);
        emit log_named_uint("CreativeWorks.mint tx gas, 5% royalty", royaltyGas);
        assertLe(plainGas * 10, baselineGas * 6, "mint without royalty above 0.6x baseline");
        assertLe(royaltyGas * 10, baselineGas * 6, "mint with royalty above 0.6x baseline");
    }

    /// The editions goal: the 10 editions of a work, minted in one mintBatch to 10 fresh owners with a 5 % royalty
    /// to a creator already known to the contract, cost at most 0.45x ten plain OZ ERC721URIStorage mints of the
    /// same URIs; minted edition by edition (one mint transaction each) they cost at most 0.48x (a transaction's
    /// own 21,000 gas, its cold minter-role and receiver slots are not shared with the other editions).
    function test_Gas_TenEditionsWithRoyaltyCostAtMostFortyFivePercentOfUriStorageMints() public {
        vm.prank(minter);
        works.mint(creator, keccak256("earlier work"), creator, 500); // the creator's receiver slot exists
        uint256 baselineGas;
        uint256 singleGas;
        CreativeWorks.MintRequest[] memory editions = new CreativeWorks.MintRequest[](10);
        for (uint256 i; i < 10; ++i) {
            bytes32 digest = keccak256(abi.encode("edition", i));
            singleGas += _txGas(address(works), abi.encodeCall(CreativeWorks.mint,
                (makeAddr(string(abi.encode("single", i))), digest, creator, 500)));
            baselineGas += _txGas(address(baseline), abi.encodeCall(BaselineURIStorage.mint,
                (makeAddr(string(abi.encode("base", i))), uint256(digest), works.tokenURI(uint256(digest)))));
            editions[i] = _request(makeAddr(string(abi.encode("batch", i))), keccak256(abi.encode("batch edition", i)),
                creator, 500);
        }
        uint256 batchGas = _txGas(address(works), abi.encodeCall(CreativeWorks.mintBatch, (editions)));
        // context: the same 10 editions as units of one ERC-1155 id (the first sets the id's royalty)
        BaselineEditions1155 multi = new BaselineEditions1155(minter);
        uint256 multiGas;
        for (uint256 i; i < 10; ++i) {
            multiGas += _txGas(address(multi), abi.encodeCall(BaselineEditions1155.mint,
                (makeAddr(string(abi.encode("multi", i))), uint256(keccak256("work")), creator, 500)));
        }
        emit log_named_uint("10 BaselineURIStorage.mint txs, gas", baselineGas);
        emit log_named_uint("10 BaselineEditions1155.mint txs (one id), gas", multiGas);
        emit log_named_uint("10 CreativeWorks.mint txs (editions), gas", singleGas);
        emit log_named_uint("1 CreativeWorks.mintBatch tx of 10 editions, gas", batchGas);
        assertLe(batchGas * 100, baselineGas * 45, "mintBatch of 10 editions above 0.45x");
        assertLe(singleGas * 100, baselineGas * 48, "10 edition mints above 0.48x");
    }

    /// Delivering a seller's sales together: 10 tokens to 10 fresh buyers in one transferBatch cost at most
    /// 0.75x ten safeTransferFrom transactions (the 21000 base and the seller's cold slots are paid once).
    function test_Gas_TransferBatchOfTenCostsAtMostThreeQuartersOfTenTransfers() public {
        uint256[] memory ids = _mintMany(creator, 20);
        uint256 singles;
        for (uint256 i; i < 10; ++i) {
            singles += _txGasAs(creator, address(works), abi.encodeWithSignature(
                "safeTransferFrom(address,address,uint256)", creator, makeAddr(string(abi.encode("single", i))), ids[i]));
        }
        uint256[] memory rest = new uint256[](10);
        for (uint256 i; i < 10; ++i) {
            rest[i] = ids[10 + i];
        }
        uint256 batch = _txGasAs(creator, address(works), abi.encodeCall(CreativeWorks.transferBatch,
            (_each(creator, 10), _fresh(10), rest)));
        emit log_named_uint("10 safeTransferFrom txs, gas", singles);
        emit log_named_uint("1 transferBatch tx of 10, gas", batch);
        assertLe(batch * 4, singles * 3, "transferBatch of 10 above 0.75x ten single transfers");
    }
}
