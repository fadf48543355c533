// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Splits} from "../src/Splits.sol";
import {SplitsHandler} from "./handlers/SplitsHandler.sol";

contract SplitsInvariantTest is Test {
    Splits internal splits;
    SplitsHandler internal handler;

    function setUp() public {
        splits = new Splits();
        handler = new SplitsHandler(splits);
        targetContract(address(handler));
    }

    function _owedTotal() internal view returns (uint256 owed) {
        for (uint256 i; i < handler.actorCount(); ++i) {
            owed += splits.withdrawable(handler.actors(i));
        }
    }

    /// What Splits holds is exactly what it owes: every credit is backed, no ETH is held for nobody.
    function invariant_BalanceEqualsWhatItOwes() public view {
        assertEq(address(splits).balance, _owedTotal());
    }

    /// Nobody takes more than their share: each actor's withdrawals plus credit are exactly its entitlement by
    /// share (computed by the handler), never above it.
    function invariant_NobodyWithdrawsMoreThanTheirShare() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            assertLe(handler.ghostWithdrawn(actor), handler.ghostEntitled(actor));
            assertEq(handler.ghostWithdrawn(actor) + splits.withdrawable(actor), handler.ghostEntitled(actor));
        }
    }

    /// Every wei paid is waiting in a wallet, owed by Splits, or withdrawn; the rounding dust of a distribution
    /// (which its first recipient gets) is below the number of recipients.
    function invariant_NothingButDustIsStuck() public view {
        uint256 waiting;
        for (uint256 s; s < handler.splitCount(); ++s) {
            (,, address wallet) = handler.split(s);
            waiting += wallet.balance;
        }
        assertEq(handler.ghostPaid(), waiting + address(splits).balance + handler.ghostWithdrawnTotal());
        assertEq(handler.ghostDistributed(), _owedTotal() + handler.ghostWithdrawnTotal());
        if (handler.ghostMaxDust() > 0) assertLt(handler.ghostMaxDust(), handler.ghostMaxDustRecipients());
    }

    /// After everything is distributed and withdrawn, Splits holds nothing and no wallet holds anything (state
    /// rolled back afterwards).
    function invariant_DrainingLeavesNothingBehind() public {
        uint256 snapshot = vm.snapshotState();
        for (uint256 s; s < handler.splitCount(); ++s) {
            (address[] memory accounts, uint16[] memory shares, address wallet) = handler.split(s);
            splits.createSplit(accounts, shares);
            splits.distributeETH(accounts, shares);
            assertEq(wallet.balance, 0);
        }
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            if (splits.withdrawable(actor) != 0) splits.withdraw(actor);
        }
        assertEq(address(splits).balance, 0);
        vm.revertToState(snapshot);
    }
}
