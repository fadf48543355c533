// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {Splits} from "../../src/Splits.sol";
import {SplitInputs} from "../utils/SplitInputs.sol";

/// @notice Drives Splits like royalty payers (plain `transfer`s to split wallets, before and after creation),
///         keepers (distributions) and recipients (withdrawals) do, over a few splits of 2, 3, 5 and 10 recipients
///         drawn from one pool of actors (so an actor is in several splits). Ghost books: what was paid into each
///         wallet, what each actor is entitled to by share (the dust rule written out independently) and took.
contract SplitsHandler is CommonBase, StdCheats, StdUtils {
    Splits public immutable splits;
    address[] public actors;

    struct Split {
        address[] accounts;
        uint16[] shares;
        address wallet;
    }

    Split[] internal _splits;
    mapping(address account => uint256 wei_) public ghostEntitled;
    mapping(address account => uint256 wei_) public ghostWithdrawn;
    uint256 public ghostPaid;
    uint256 public ghostDistributed;
    uint256 public ghostWithdrawnTotal;
    /// The most dust (wei above its floor share) a first recipient got in one distribution, and that split's size.
    uint256 public ghostMaxDust;
    uint256 public ghostMaxDustRecipients;

    uint256 internal constant ACTORS = 12;
    uint256[4] internal SIZES = [uint256(2), 3, 5, 10];

    constructor(Splits splits_) {
        splits = splits_;
        for (uint256 i; i < ACTORS; ++i) {
            actors.push(makeAddr(string.concat("recipient", vm.toString(i))));
        }
        for (uint256 s; s < SIZES.length; ++s) {
            address[] memory members = new address[](SIZES[s]);
            for (uint256 k; k < SIZES[s]; ++k) {
                members[k] = actors[(s * 3 + k) % ACTORS];
            }
            Split storage split = _splits.push();
            split.accounts = SplitInputs.sorted(members);
            split.shares = SplitInputs.makeShares(s, SIZES[s]);
            split.wallet = splits.predictSplitAddress(split.accounts, split.shares);
            // the last split is created by the `create` action: until then payments wait at its address
            if (s + 1 < SIZES.length) splits.createSplit(split.accounts, split.shares);
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function splitCount() external view returns (uint256) {
        return _splits.length;
    }

    function split(uint256 index) external view returns (address[] memory, uint16[] memory, address) {
        Split storage s = _splits[index];
        return (s.accounts, s.shares, s.wallet);
    }

    /// A royalty paid by a marketplace that uses `transfer` (2,300 gas).
    function pay(uint256 splitSeed, uint256 amount) external {
        amount = _bound(amount, 0, 1_000 ether);
        Split storage s = _splits[splitSeed % _splits.length];
        vm.deal(address(this), amount);
        payable(s.wallet).transfer(amount);
        ghostPaid += amount;
    }

    function create(uint256 splitSeed) external {
        Split storage s = _splits[splitSeed % _splits.length];
        require(splits.createSplit(s.accounts, s.shares) == s.wallet, "created elsewhere than predicted");
    }

    function distribute(uint256 splitSeed, uint256 callerSeed) external {
        Split storage s = _splits[splitSeed % _splits.length];
        if (s.wallet.code.length == 0) return;
        uint256 amount = s.wallet.balance;
        vm.prank(actors[callerSeed % ACTORS]);
        require(splits.distributeETH(s.accounts, s.shares) == amount, "distributed other than the wallet's balance");
        uint256 floors;
        for (uint256 i; i < s.accounts.length; ++i) {
            uint256 part = amount * s.shares[i] / 10_000;
            ghostEntitled[s.accounts[i]] += part;
            floors += part;
        }
        uint256 dust = amount - floors;
        ghostEntitled[s.accounts[0]] += dust;
        ghostDistributed += amount;
        if (dust > ghostMaxDust) (ghostMaxDust, ghostMaxDustRecipients) = (dust, s.accounts.length);
    }

    /// Anyone withdraws for an actor; the ETH goes to the actor.
    function withdraw(uint256 actorSeed, uint256 callerSeed) external {
        address account = actors[actorSeed % ACTORS];
        uint256 owed = splits.withdrawable(account);
        if (owed == 0) return;
        uint256 before = account.balance;
        vm.prank(actors[callerSeed % ACTORS]);
        splits.withdraw(account);
        require(account.balance - before == owed, "withdrawal paid other than the credit");
        ghostWithdrawn[account] += owed;
        ghostWithdrawnTotal += owed;
    }
}
