// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Splits
/// @notice Royalty splits for co-created works: ONE contract holds every split's money and books; each split has
///         its own receiving address (what a token's EIP-2981 `royaltyInfo` names), a tiny wallet that only
///         accepts ETH. Anyone may distribute what a wallet holds to its recipients by share, and anyone may
///         withdraw a recipient's credit to that recipient (pull payments: a recipient that cannot receive ETH
///         blocks only itself).
/// @dev Learnt from 0xSplits v1 (SplitMain + SplitWallet), simplified to immutable splits:
///      - A split IS its recipients and shares: `splitHash = keccak256(abi.encodePacked(accounts, shares))`,
///        accounts strictly ascending (so one set of recipients has one hash), no zero address, no zero share,
///        shares in basis points summing to 10,000. Nothing about a split is stored: its wallet's code is the
///        record that it exists, so creation costs the CREATE2 and nothing else.
///      - The wallet is deployed with CREATE2 (salt = splitHash) from this contract, so its address is known
///        before it exists (`predictSplitAddress`, and off chain: keccak256(0xff ++ this ++ splitHash ++
///        keccak256(walletInitCode()))[12:]). ETH paid to the address before creation waits there and is
///        distributed once the split is created.
///      - The wallet is 44 bytes of hand-written code, not a delegating proxy: any call from anyone but this
///        contract just stops (accepting the value, well within the 2,300 gas of a Solidity `transfer`); a call
///        from this contract sends the wallet's whole balance back to it.
///      - There is no controller, no owner, no upgrade: a split never changes. A work whose creators change
///        would get a new split (a new hash, a new address).
///      - Rounding dust: each recipient but the first is credited floor(amount * share / 10,000); the first
///        recipient (the lowest address) gets the rest, so a distribution credits exactly what it pulled and
///        nothing is left behind. The first recipient's extra is below the number of recipients, in wei.
///      - This contract's balance is always what it owes (the sum of `withdrawable`): its `receive` only takes
///        ETH from the wallet it is pulling from (a transient-storage mark), so nobody can pay it by mistake.
contract Splits {
    /// @notice The shares of a split sum to this (basis points).
    uint256 public constant TOTAL_SHARES = 10_000;
    /// @notice Fewest recipients of a split (one creator needs no split).
    uint256 public constant MIN_RECIPIENTS = 2;
    /// @notice Most recipients of a split (bounds the gas of a distribution).
    uint256 public constant MAX_RECIPIENTS = 100;

    /// @dev The wallet's creation code: copies the 44-byte runtime after it to memory and returns it.
    bytes9 private constant _WALLET_CREATION = 0x602c8060095f395ff3;
    /// @dev Runtime, before the address of this contract: CALLER PUSH20.
    bytes2 private constant _WALLET_HEAD = 0x3373;
    /// @dev Runtime, after it: EQ PUSH1 0x1b JUMPI STOP | JUMPDEST (caller is Splits) PUSH0 x4 SELFBALANCE CALLER GAS
    ///      CALL PUSH1 0x2a JUMPI PUSH0 PUSH0 REVERT | JUMPDEST STOP.
    bytes22 private constant _WALLET_TAIL = 0x14601b57005b5f5f5f5f47335af1602a575f5ffd5b00;
    /// @dev Transient slot holding the wallet being pulled from (keccak256("Splits.pulling") - 1).
    bytes32 private constant _PULLING_SLOT = 0x8a2746c5d829165490e4ef664f2657edad3901399784ec11eec405172b21b071;

    /// @notice ETH each account may withdraw, in wei.
    mapping(address account => uint256 amount) public withdrawable;

    /// @notice The split of these recipients and shares was created; its wallet is `split`.
    event SplitCreated(address indexed split, bytes32 indexed splitHash, address[] accounts, uint16[] shares);
    /// @notice `amount` wei held by `split` were credited to its recipients by share.
    event Distributed(address indexed split, uint256 amount);
    /// @notice `amount` wei were sent to `account`, all it was owed.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice A split needs between MIN_RECIPIENTS and MAX_RECIPIENTS recipients, not `count`.
    error RecipientCount(uint256 count);
    /// @notice `accounts` and `shares` have different lengths.
    error LengthMismatch(uint256 accounts, uint256 shares);
    /// @notice `accounts[index]` is the zero address, or not above the account before it (unsorted or a duplicate).
    error RecipientsNotStrictlyAscending(uint256 index);
    /// @notice `shares[index]` is zero.
    error ZeroShare(uint256 index);
    /// @notice The shares sum to `total`, not TOTAL_SHARES.
    error SharesDoNotSum(uint256 total);
    /// @notice No split was created at `split` (create it first: createSplit).
    error SplitNotCreated(address split);
    /// @notice `account` is owed nothing.
    error NothingToWithdraw(address account);
    /// @notice Sending `account` its ETH failed (it refuses ETH or ran out of gas); its credit is kept.
    error WithdrawFailed(address account);
    /// @notice Only the wallet being distributed may send ETH to this contract, not `sender`.
    error UnexpectedETH(address sender);

    /// @notice Takes ETH only from the split wallet `distributeETH` is pulling from.
    receive() external payable {
        address pulling;
        bytes32 slot = _PULLING_SLOT;
        assembly ("memory-safe") {
            pulling := tload(slot)
        }
        if (msg.sender != pulling) revert UnexpectedETH(msg.sender);
    }

    // ------------------------------------------------------------------------------------------------
    // Splits
    // ------------------------------------------------------------------------------------------------

    /// @notice Creates the split of `accounts` and `shares` (its wallet), or returns it if it exists already:
    ///         calling it again, by anyone, changes nothing.
    /// @param accounts Recipients, strictly ascending, none zero.
    /// @param shares Each recipient's share in basis points, none zero, summing to TOTAL_SHARES.
    /// @return split The split's wallet: its address is predictSplitAddress(accounts, shares).
    function createSplit(address[] calldata accounts, uint16[] calldata shares) external returns (address split) {
        bytes32 hash = splitHash(accounts, shares);
        split = _predict(hash);
        if (split.code.length != 0) return split;
        bytes memory initCode = _walletInitCode();
        assembly ("memory-safe") {
            split := create2(0, add(initCode, 0x20), mload(initCode), hash)
        }
        // create2 only fails here when out of gas (the address has no code, so no collision).
        if (split == address(0)) revert SplitNotCreated(split);
        emit SplitCreated(split, hash, accounts, shares);
    }

    /// @notice Credits everything the split's wallet holds to its recipients by share (see the dust rule above).
    ///         Anyone may call it; an empty wallet credits nothing.
    /// @param accounts The split's recipients, as created.
    /// @param shares Their shares, as created.
    /// @return amount The wei credited.
    function distributeETH(address[] calldata accounts, uint16[] calldata shares) external returns (uint256 amount) {
        address split = _predict(splitHash(accounts, shares));
        if (split.code.length == 0) revert SplitNotCreated(split);
        amount = split.balance;
        if (amount == 0) return 0;
        _pull(split);
        uint256 credited;
        uint256 count = accounts.length;
        for (uint256 i = 1; i < count; ++i) {
            uint256 part = amount * shares[i] / TOTAL_SHARES;
            withdrawable[accounts[i]] += part;
            credited += part;
        }
        withdrawable[accounts[0]] += amount - credited;
        emit Distributed(split, amount);
    }

    /// @notice Sends `account` everything it is owed. Anyone may call it; the ETH always goes to `account`.
    /// @dev Checks, effects, interactions: the credit is zeroed before the call, so a re-entering `account`
    ///      finds nothing more to take. A failed send reverts, so the credit stays.
    /// @param account The recipient to pay.
    /// @return amount The wei sent.
    function withdraw(address account) external returns (uint256 amount) {
        amount = withdrawable[account];
        if (amount == 0) revert NothingToWithdraw(account);
        withdrawable[account] = 0;
        emit Withdrawn(account, amount);
        (bool ok,) = account.call{value: amount}("");
        if (!ok) revert WithdrawFailed(account);
    }

    // ------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------

    /// @notice The hash that identifies the split of `accounts` and `shares` (reverts if they are not a valid split).
    /// @param accounts Recipients, strictly ascending, none zero.
    /// @param shares Their shares in basis points, none zero, summing to TOTAL_SHARES.
    /// @return keccak256(abi.encodePacked(accounts, shares)).
    function splitHash(address[] calldata accounts, uint16[] calldata shares) public pure returns (bytes32) {
        _validate(accounts, shares);
        return keccak256(abi.encodePacked(accounts, shares));
    }

    /// @notice The wallet address of the split of `accounts` and `shares`, created or not.
    /// @param accounts Recipients, strictly ascending, none zero.
    /// @param shares Their shares in basis points, none zero, summing to TOTAL_SHARES.
    /// @return The CREATE2 address of the split's wallet.
    function predictSplitAddress(address[] calldata accounts, uint16[] calldata shares)
        external
        view
        returns (address)
    {
        return _predict(splitHash(accounts, shares));
    }

    /// @notice The creation code of every split wallet of this contract (CREATE2's init code).
    /// @return The 53 bytes whose keccak256 goes into a wallet's address.
    function walletInitCode() external view returns (bytes memory) {
        return _walletInitCode();
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    function _validate(address[] calldata accounts, uint16[] calldata shares) private pure {
        uint256 count = accounts.length;
        if (count < MIN_RECIPIENTS || count > MAX_RECIPIENTS) revert RecipientCount(count);
        if (shares.length != count) revert LengthMismatch(count, shares.length);
        address previous;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            address account = accounts[i];
            if (account <= previous) revert RecipientsNotStrictlyAscending(i);
            if (shares[i] == 0) revert ZeroShare(i);
            previous = account;
            total += shares[i];
        }
        if (total != TOTAL_SHARES) revert SharesDoNotSum(total);
    }

    /// @dev The wallet's code hash is recomputed (53 bytes, ~100 gas) rather than kept as an immutable, so the
    ///      deployed code is exactly the artifact's `deployedBytecode` (the dev stack compares them).
    function _predict(bytes32 hash) private view returns (address) {
        bytes32 codeHash = keccak256(_walletInitCode());
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), hash, codeHash)))));
    }

    function _walletInitCode() private view returns (bytes memory) {
        return abi.encodePacked(_WALLET_CREATION, _WALLET_HEAD, address(this), _WALLET_TAIL);
    }

    /// @dev Has the wallet send its whole balance here; `receive` accepts it because of the transient mark.
    function _pull(address split) private {
        bytes32 slot = _PULLING_SLOT;
        assembly ("memory-safe") {
            tstore(slot, split)
        }
        (bool ok,) = split.call("");
        assembly ("memory-safe") {
            tstore(slot, 0)
        }
        // The wallet reverts only if this contract refused its ETH, which the mark rules out.
        if (!ok) revert UnexpectedETH(split);
    }
}
