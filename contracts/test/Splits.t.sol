// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, Vm} from "forge-std/Test.sol";

import {Splits} from "../src/Splits.sol";
import {SplitInputs} from "./utils/SplitInputs.sol";

/// A payer like old marketplaces: `transfer`, so only 2,300 gas reach the receiver.
contract TransferPayer {
    function pay(address payable to) external payable {
        to.transfer(msg.value);
    }
}

/// A recipient that refuses ETH.
contract Refuser {}

/// A recipient that re-enters withdraw (and distribute) while it is being paid, and remembers what came of it.
contract Reenterer {
    Splits internal immutable splits;
    address[] internal accounts;
    uint16[] internal shares;
    bool public reentryPaid;
    bytes public reentryRevert; // why the re-entered withdraw was refused, if it was
    uint256 public received;

    constructor(Splits splits_) {
        splits = splits_;
    }

    function target(address[] memory accounts_, uint16[] memory shares_) external {
        accounts = accounts_;
        shares = shares_;
    }

    receive() external payable {
        received += msg.value;
        if (received > msg.value) return; // only the first payment re-enters
        if (accounts.length != 0) splits.distributeETH(accounts, shares);
        try splits.withdraw(address(this)) {
            reentryPaid = true;
        } catch (bytes memory reason) {
            reentryRevert = reason;
        }
    }
}

contract SplitsTest is Test {
    Splits internal splits;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal stranger = makeAddr("stranger");

    address[] internal accounts;
    uint16[] internal shares;

    function setUp() public {
        splits = new Splits();
        address[] memory actors = new address[](3);
        (actors[0], actors[1], actors[2]) = (alice, bob, carol);
        accounts = SplitInputs.sorted(actors);
        shares = new uint16[](3);
        (shares[0], shares[1], shares[2]) = (5000, 3000, 2000);
    }

    function _create() internal returns (address split) {
        split = splits.createSplit(accounts, shares);
    }

    function _pay(address split, uint256 amount) internal {
        vm.deal(address(this), amount);
        (bool ok,) = split.call{value: amount}("");
        assertTrue(ok);
    }

    // ------------------------------------------------------------------------------------------------
    // Creation and addresses
    // ------------------------------------------------------------------------------------------------

    function test_CreateSplit_DeploysAtThePredictedAddress() public {
        address predicted = splits.predictSplitAddress(accounts, shares);
        assertEq(predicted.code.length, 0);
        assertEq(_create(), predicted);
        assertEq(predicted.code.length, 44);
    }

    function test_PredictSplitAddress_IsCreate2OfTheWalletInitCode() public view {
        bytes32 hash = keccak256(abi.encodePacked(accounts, shares));
        assertEq(splits.splitHash(accounts, shares), hash);
        bytes memory initCode = splits.walletInitCode();
        assertEq(initCode.length, 53);
        assertEq(
            splits.predictSplitAddress(accounts, shares),
            vm.computeCreate2Address(hash, keccak256(initCode), address(splits))
        );
    }

    function test_CreateSplit_EmitsOnceAndIsIdempotent() public {
        bytes32 hash = splits.splitHash(accounts, shares);
        address predicted = splits.predictSplitAddress(accounts, shares);
        vm.expectEmit(address(splits));
        emit Splits.SplitCreated(predicted, hash, accounts, shares);
        _create();

        vm.recordLogs();
        vm.prank(stranger);
        assertEq(splits.createSplit(accounts, shares), predicted);
        assertEq(vm.getRecordedLogs().length, 0, "a second creation emits nothing");
    }

    function test_DifferentSharesGiveDifferentSplits() public {
        address first = _create();
        (shares[0], shares[1]) = (3000, 5000);
        assertTrue(splits.createSplit(accounts, shares) != first);
    }

    // ------------------------------------------------------------------------------------------------
    // The wallet
    // ------------------------------------------------------------------------------------------------

    function test_Wallet_AcceptsASolidityTransfer() public {
        address split = _create();
        TransferPayer payer = new TransferPayer();
        payer.pay{value: 1 ether}(payable(split));
        assertEq(split.balance, 1 ether);
    }

    function test_Wallet_ReceiveCostsLittleGas() public {
        address split = _create();
        vm.deal(address(this), 1 ether);
        uint256 before = gasleft();
        (bool ok,) = split.call{value: 1 ether, gas: 2300}("");
        uint256 used = before - gasleft();
        assertTrue(ok);
        // the value transfer itself costs 9,000 (+2,600 cold account); the wallet's code a few dozen
        assertLt(used, 12_000);
    }

    function test_Wallet_AcceptsCallsWithData() public {
        address split = _create();
        vm.deal(address(this), 1 ether);
        (bool ok,) = split.call{value: 1 ether}(abi.encodeWithSignature("anything(uint256)", 7));
        assertTrue(ok);
        assertEq(split.balance, 1 ether);
    }

    function test_Wallet_StrangerCannotTakeItsBalance() public {
        address split = _create();
        _pay(split, 1 ether);
        vm.prank(stranger);
        (bool ok,) = split.call("");
        assertTrue(ok);
        assertEq(split.balance, 1 ether);
        assertEq(stranger.balance, 0);
    }

    function test_PaidBeforeCreation_IsDistributedAfter() public {
        address predicted = splits.predictSplitAddress(accounts, shares);
        _pay(predicted, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Splits.SplitNotCreated.selector, predicted));
        splits.distributeETH(accounts, shares);
        _create();
        assertEq(splits.distributeETH(accounts, shares), 1 ether);
        assertEq(splits.withdrawable(accounts[0]), 0.5 ether);
    }

    function test_RevertWhen_ETHIsSentToSplitsDirectly() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        (bool ok, bytes memory reason) = address(splits).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(reason, abi.encodeWithSelector(Splits.UnexpectedETH.selector, stranger));
    }

    // ------------------------------------------------------------------------------------------------
    // Distribution
    // ------------------------------------------------------------------------------------------------

    function test_Distribute_CreditsEachByShare() public {
        address split = _create();
        _pay(split, 10 ether);
        vm.expectEmit(address(splits));
        emit Splits.Distributed(split, 10 ether);
        vm.prank(stranger);
        assertEq(splits.distributeETH(accounts, shares), 10 ether);
        assertEq(splits.withdrawable(accounts[0]), 5 ether);
        assertEq(splits.withdrawable(accounts[1]), 3 ether);
        assertEq(splits.withdrawable(accounts[2]), 2 ether);
        assertEq(split.balance, 0);
        assertEq(address(splits).balance, 10 ether);
    }

    function test_Distribute_DustGoesToTheFirstRecipient() public {
        address split = _create();
        _pay(split, 7); // 3.5, 2.1, 1.4 wei
        splits.distributeETH(accounts, shares);
        assertEq(splits.withdrawable(accounts[1]), 2);
        assertEq(splits.withdrawable(accounts[2]), 1);
        assertEq(splits.withdrawable(accounts[0]), 4, "3 by share + 1 wei of dust");
    }

    function test_Distribute_EmptyWalletCreditsNothing() public {
        _create();
        vm.recordLogs();
        assertEq(splits.distributeETH(accounts, shares), 0);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(splits.withdrawable(accounts[0]), 0);
    }

    function test_Distribute_AddsToEarlierCredits() public {
        address split = _create();
        _pay(split, 1 ether);
        splits.distributeETH(accounts, shares);
        _pay(split, 3 ether);
        splits.distributeETH(accounts, shares);
        assertEq(splits.withdrawable(accounts[0]), 2 ether);
    }

    function test_RevertWhen_DistributingASplitNeverCreated() public {
        vm.expectRevert(
            abi.encodeWithSelector(Splits.SplitNotCreated.selector, splits.predictSplitAddress(accounts, shares))
        );
        splits.distributeETH(accounts, shares);
    }

    // ------------------------------------------------------------------------------------------------
    // Withdrawal
    // ------------------------------------------------------------------------------------------------

    function test_Withdraw_AnyoneMayPayARecipient() public {
        _pay(_create(), 10 ether);
        splits.distributeETH(accounts, shares);
        vm.expectEmit(address(splits));
        emit Splits.Withdrawn(accounts[1], 3 ether);
        vm.prank(stranger);
        assertEq(splits.withdraw(accounts[1]), 3 ether);
        assertEq(accounts[1].balance, 3 ether);
        assertEq(stranger.balance, 0);
        assertEq(splits.withdrawable(accounts[1]), 0);
        assertEq(address(splits).balance, 7 ether);
    }

    function test_RevertWhen_WithdrawingNothing() public {
        vm.expectRevert(abi.encodeWithSelector(Splits.NothingToWithdraw.selector, alice));
        splits.withdraw(alice);
    }

    function test_RevertWhen_RecipientRefusesETH_CreditIsKept() public {
        address refuser = address(new Refuser());
        address[] memory two = SplitInputs.sorted(_pair(refuser, alice));
        uint16[] memory halves = SplitInputs.equalShares(2);
        _pay(splits.createSplit(two, halves), 2 ether);
        splits.distributeETH(two, halves);
        vm.expectRevert(abi.encodeWithSelector(Splits.WithdrawFailed.selector, refuser));
        splits.withdraw(refuser);
        assertEq(splits.withdrawable(refuser), 1 ether);
        assertEq(splits.withdraw(alice), 1 ether, "one refusing recipient blocks only itself");
    }

    function _thiefSplit(Reenterer thief) internal returns (address split, address[] memory two, uint16[] memory halves) {
        two = SplitInputs.sorted(_pair(address(thief), alice));
        halves = SplitInputs.equalShares(2);
        split = splits.createSplit(two, halves);
        _pay(split, 2 ether);
        splits.distributeETH(two, halves);
    }

    function test_Withdraw_ReentryFindsTheCreditAlreadyPaid() public {
        Reenterer thief = new Reenterer(splits);
        _thiefSplit(thief);

        splits.withdraw(address(thief));

        assertFalse(thief.reentryPaid(), "the re-entered withdraw found its credit already zeroed");
        assertEq(thief.reentryRevert(), abi.encodeWithSelector(Splits.NothingToWithdraw.selector, address(thief)));
        assertEq(thief.received(), 1 ether);
        assertEq(address(splits).balance, 1 ether, "alice's credit is still there");
        assertEq(splits.withdrawable(alice), 1 ether);
    }

    function test_Withdraw_ReentryThatDistributesGetsExactlyItsShare() public {
        Reenterer thief = new Reenterer(splits);
        (address split, address[] memory two, uint16[] memory halves) = _thiefSplit(thief);
        thief.target(two, halves);
        _pay(split, 2 ether); // waiting in the wallet: the thief distributes it while being paid

        splits.withdraw(address(thief));

        assertTrue(thief.reentryPaid(), "the re-entered withdraw paid the new credit");
        assertEq(thief.received(), 2 ether, "half of the 4 ether paid, no more");
        assertEq(splits.withdrawable(address(thief)), 0);
        assertEq(splits.withdrawable(alice), 2 ether);
        assertEq(address(splits).balance, 2 ether);
    }

    // ------------------------------------------------------------------------------------------------
    // Validation
    // ------------------------------------------------------------------------------------------------

    function test_RevertWhen_FewerThanTwoRecipients() public {
        address[] memory one = new address[](1);
        one[0] = alice;
        uint16[] memory all = new uint16[](1);
        all[0] = 10_000;
        vm.expectRevert(abi.encodeWithSelector(Splits.RecipientCount.selector, 1));
        splits.createSplit(one, all);
    }

    function test_RevertWhen_MoreThanMaxRecipients() public {
        (address[] memory many, uint16[] memory parts) = SplitInputs.make(1, 101);
        vm.expectRevert(abi.encodeWithSelector(Splits.RecipientCount.selector, 101));
        splits.createSplit(many, parts);
    }

    function test_RevertWhen_LengthsDiffer() public {
        shares.pop();
        vm.expectRevert(abi.encodeWithSelector(Splits.LengthMismatch.selector, 3, 2));
        splits.createSplit(accounts, shares);
    }

    function test_RevertWhen_RecipientsUnsorted() public {
        (accounts[1], accounts[2]) = (accounts[2], accounts[1]);
        vm.expectRevert(abi.encodeWithSelector(Splits.RecipientsNotStrictlyAscending.selector, 2));
        splits.createSplit(accounts, shares);
    }

    function test_RevertWhen_RecipientRepeated() public {
        accounts[1] = accounts[0];
        vm.expectRevert(abi.encodeWithSelector(Splits.RecipientsNotStrictlyAscending.selector, 1));
        splits.createSplit(accounts, shares);
    }

    function test_RevertWhen_RecipientIsZero() public {
        accounts[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(Splits.RecipientsNotStrictlyAscending.selector, 0));
        splits.predictSplitAddress(accounts, shares);
    }

    function test_RevertWhen_AShareIsZero() public {
        (shares[1], shares[2]) = (0, 5000);
        vm.expectRevert(abi.encodeWithSelector(Splits.ZeroShare.selector, 1));
        splits.distributeETH(accounts, shares);
    }

    function testFuzz_RevertWhen_SharesDoNotSumToTenThousand(uint16 a, uint16 b, uint16 c) public {
        a = uint16(bound(a, 1, 10_000));
        b = uint16(bound(b, 1, 10_000));
        c = uint16(bound(c, 1, 10_000));
        uint256 total = uint256(a) + b + c;
        vm.assume(total != 10_000);
        (shares[0], shares[1], shares[2]) = (a, b, c);
        vm.expectRevert(abi.encodeWithSelector(Splits.SharesDoNotSum.selector, total));
        splits.createSplit(accounts, shares);
    }

    // ------------------------------------------------------------------------------------------------
    // Fuzz
    // ------------------------------------------------------------------------------------------------

    function testFuzz_PredictedAddressIsCreatedAddress(uint256 seed, uint8 count) public {
        (address[] memory many, uint16[] memory parts) = SplitInputs.make(seed, bound(count, 2, 100));
        address predicted = splits.predictSplitAddress(many, parts);
        assertEq(splits.createSplit(many, parts), predicted);
        assertEq(predicted.code, _walletRuntime());
    }

    /// Every wei paid is credited: floor(amount * share / 10,000) to each but the first, the rest (< count wei
    /// above its own floor) to the first; withdrawing all of it empties the contract.
    function testFuzz_Distribute_CreditsExactlyWhatWasPaid(uint256 seed, uint8 count, uint128 amount) public {
        uint256 n = bound(count, 2, 100);
        (address[] memory many, uint16[] memory parts) = SplitInputs.make(seed, n);
        _pay(splits.createSplit(many, parts), amount);
        assertEq(splits.distributeETH(many, parts), amount);

        uint256 total;
        for (uint256 i; i < n; ++i) {
            uint256 credit = splits.withdrawable(many[i]);
            uint256 floorShare = uint256(amount) * parts[i] / 10_000;
            if (i == 0) {
                assertGe(credit, floorShare);
                assertLt(credit - floorShare, n, "dust is below the number of recipients");
            } else {
                assertEq(credit, floorShare);
            }
            total += credit;
        }
        assertEq(total, amount);
        for (uint256 i; i < n; ++i) {
            if (splits.withdrawable(many[i]) != 0) splits.withdraw(many[i]);
        }
        assertEq(address(splits).balance, 0);
    }

    function testFuzz_WalletOnlyPaysSplits(address caller, uint96 amount) public {
        vm.assume(caller != address(splits));
        address split = _create();
        _pay(split, amount);
        vm.prank(caller);
        (bool ok,) = split.call("");
        assertTrue(ok);
        assertEq(split.balance, amount);
    }

    // ------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------

    function _pair(address a, address b) internal pure returns (address[] memory pair) {
        pair = new address[](2);
        (pair[0], pair[1]) = (a, b);
    }

    /// The 44-byte wallet, written out here independently of Splits' constants.
    function _walletRuntime() internal view returns (bytes memory) {
        return abi.encodePacked(
            hex"33", // CALLER
            hex"73", address(splits), // PUSH20 splits
            hex"14", // EQ
            hex"601b57", // PUSH1 0x1b JUMPI
            hex"00", // STOP: anyone else's call (or plain ETH) is accepted as is
            hex"5b", // JUMPDEST 0x1b
            hex"5f5f5f5f", // PUSH0 x4: no call data, no return data
            hex"47", // SELFBALANCE
            hex"33", // CALLER
            hex"5a", // GAS
            hex"f1", // CALL
            hex"602a57", // PUSH1 0x2a JUMPI
            hex"5f5ffd", // REVERT(0, 0)
            hex"5b00" // JUMPDEST 0x2a STOP
        );
    }

    receive() external payable {}
}
