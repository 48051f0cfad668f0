// SPDX-License-Identifier: Apache-2.0
// Uses opcodes GoQuorum's EVM (geth 1.10.3, Berlin at most) does not have:
// PUSH0 (Shanghai, emitted by any solc >= 0.8.20 default build), TSTORE/TLOAD and MCOPY (Cancun).
// Compiled with solc's default evmVersion.
pragma solidity ^0.8.28;

contract Modern {
    /// Transient storage variable: lives only for the current transaction (TSTORE/TLOAD).
    uint256 transient lockDepth;

    uint256 public lastSum;
    bytes public lastCopy;

    event Copied(bytes data);
    event Summed(uint256 sum);

    error Reentered();

    /// Writes `value` with TSTORE and reads it back with TLOAD inside one call.
    function transientRoundTrip(uint256 value) external returns (uint256 readBack) {
        assembly {
            tstore(0x51, value)
            readBack := tload(0x51)
        }
        // Transient storage is cleared between transactions, never persisted.
        lockDepth = readBack;
        readBack = lockDepth;
    }

    /// Reads a transient slot that no earlier transaction can have left set: always 0.
    function transientAfterTx() external view returns (uint256 value) {
        assembly {
            value := tload(0x51)
        }
    }

    /// Sums `values` while a transient reentrancy guard is held; stores and emits the sum.
    function guardedSum(uint256[] calldata values) external returns (uint256 sum) {
        if (lockDepth != 0) revert Reentered();
        lockDepth = 1;
        for (uint256 i = 0; i < values.length; i++) {
            sum += values[i];
        }
        lastSum = sum;
        lockDepth = 0;
        emit Summed(sum);
    }

    /// Copies `data` in memory with MCOPY and returns the copy.
    function memCopy(bytes memory data) public pure returns (bytes memory out) {
        out = new bytes(data.length);
        assembly {
            mcopy(add(out, 0x20), add(data, 0x20), mload(data))
        }
    }

    /// MCOPY, then persists the copy and emits it.
    function storeCopy(bytes calldata data) external returns (bytes memory out) {
        out = memCopy(data);
        lastCopy = out;
        emit Copied(out);
    }

    /// Returns 0 through PUSH0 explicitly.
    function zero() external pure returns (uint256 z) {
        assembly {
            z := 0
        }
    }
}
