// SPDX-License-Identifier: Apache-2.0
// Every way a call can fail, for checking that clients decode the node's revert data.
pragma solidity ^0.8.20;

contract Reverter {
    error Unauthorized(address caller, uint256 code);

    uint256 public counter;

    /// Reverts with Error(string) "reason text".
    function revertWithReason() external {
        counter += 1;
        require(false, "reason text");
    }

    /// Reverts with the custom error Unauthorized(msg.sender, 42).
    function revertWithCustomError() external {
        counter += 1;
        revert Unauthorized(msg.sender, 42);
    }

    /// Fails an assert: Panic(uint256) with code 0x01.
    function panicAssert() external {
        counter += 1;
        assert(counter == 0);
    }

    /// Divides by its argument: Panic(0x12) when it is zero.
    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    /// A view that reverts with Error(string) "view reason".
    function viewRevert() external pure returns (uint256) {
        revert("view reason");
    }

    /// Reverts with no data at all.
    function revertEmpty() external pure {
        revert();
    }

    /// Succeeds: lets tests check the contract itself works.
    function ok() external pure returns (uint256) {
        return 7;
    }
}
