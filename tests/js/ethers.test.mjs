// ethers v6 against a qnode dev chain, over HTTP with default batching, HTTP with batchMaxCount 1, and
// WebSocket. No fee or transaction-type settings: ethers picks them from the node (getFeeData).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ethers } from 'ethers';
import helpers from './helpers.cjs';

const { DEV_ADDRESS, CHAIN_ID, nodeEnv, artifact, sleep, Collector } = helpers;
const env = nodeEnv();

const SimpleStorage = artifact('SimpleStorage');
const SimpleStorageLondon = artifact('SimpleStorageLondon');
const QrsToken = artifact('QrsToken');
const Reverter = artifact('Reverter');
const Modern = artifact('Modern');

// The node mines as soon as a transaction is pending; keep ethers' polling fast (a provider setting).
const POLL_MS = 200;
// ethers shares identical requests made within cacheTimeout (250 ms by default), including
// eth_getTransactionCount(addr, "pending") and eth_call. Against a node that mines instantly, a transaction or read
// issued within 250 ms of the previous one would reuse a stale nonce or a stale result (client-side; the same
// happens with any automining dev node). -1 turns that cache off; it is a provider setting, not a fee setting.
const PROVIDER_OPTS = { pollingInterval: POLL_MS, cacheTimeout: -1 };
// Let a fresh listener install its subscription/filter (or take its first poll) before we trigger events.
const SUBSCRIBE_SETTLE_MS = 600;
const T = { timeout: 30_000 };

const MODES = [
  {
    label: 'HTTP (default batching)',
    make: () => new ethers.JsonRpcProvider(env.httpUrl, undefined, PROVIDER_OPTS),
  },
  {
    label: 'HTTP (batchMaxCount 1)',
    make: () => new ethers.JsonRpcProvider(env.httpUrl, undefined, { ...PROVIDER_OPTS, batchMaxCount: 1 }),
  },
  {
    label: 'WebSocket',
    make: () => new ethers.WebSocketProvider(env.wsUrl, undefined, PROVIDER_OPTS),
  },
];

async function expectCallException(promise, check) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, 'CALL_EXCEPTION', `expected CALL_EXCEPTION, got ${e.code}: ${e.message}`);
    check(e);
    return true;
  });
}

for (const mode of MODES) {
  describe(`ethers v6 over ${mode.label}`, { timeout: 180_000 }, () => {
    let provider;
    let wallet;

    before(async () => {
      provider = mode.make();
      wallet = new ethers.Wallet(env.devKey, provider);
    });

    after(async () => {
      if (provider) {
        provider.removeAllListeners();
        provider.destroy();
      }
    });

    test('detects chain id 1337 and the dev account', T, async () => {
      const network = await provider.getNetwork();
      assert.equal(network.chainId, BigInt(CHAIN_ID));
      assert.equal(wallet.address, DEV_ADDRESS);
      assert.ok((await provider.getBalance(DEV_ADDRESS)) > 0n, 'dev account is funded');
      const block = await provider.getBlock('latest');
      assert.ok(block.number >= 0 && typeof block.hash === 'string');
    });

    describe('SimpleStorage (quickstart flow)', () => {
      let contract;
      let deployReceipt;
      let setReceipt;

      test('deploys SimpleStorage(47) and reads 47', T, async () => {
        const factory = new ethers.ContractFactory(SimpleStorage.abi, SimpleStorage.bytecode, wallet);
        contract = await factory.deploy(47);
        await contract.waitForDeployment();
        deployReceipt = await contract.deploymentTransaction().wait();
        assert.equal(deployReceipt.status, 1);
        const address = await contract.getAddress();
        assert.equal(deployReceipt.contractAddress, address);
        assert.equal(
          ethers.getCreateAddress({ from: DEV_ADDRESS, nonce: contract.deploymentTransaction().nonce }),
          address,
        );
        assert.equal(await provider.getCode(address), SimpleStorage.deployedBytecode);
        assert.equal(await contract.get(), 47n);
        assert.equal(await contract.storedData(), 47n);
      });

      test('set(123), wait, reads 123; the receipt carries stored(dev, 123)', T, async () => {
        const tx = await contract.set(123);
        setReceipt = await tx.wait();
        assert.equal(setReceipt.status, 1);
        assert.equal(setReceipt.hash, tx.hash);
        assert.equal(await contract.get(), 123n);

        assert.equal(setReceipt.logs.length, 1);
        const log = setReceipt.logs[0];
        assert.equal(log.address, await contract.getAddress());
        assert.equal(log.topics[0], contract.interface.getEvent('stored').topicHash);
        const parsed = contract.interface.parseLog(log);
        assert.equal(parsed.name, 'stored');
        assert.equal(parsed.args._to, DEV_ADDRESS);
        assert.equal(parsed.args._amount, 123n);
        // ethers v6 gives ContractTransactionReceipt.logs as EventLog when the ABI matches.
        assert.equal(setReceipt.logs[0].eventName, 'stored');
      });

      test('queryFilter (eth_getLogs) returns the constructor and the set() events', T, async () => {
        const events = await contract.queryFilter('stored', deployReceipt.blockNumber, setReceipt.blockNumber);
        assert.deepEqual(
          events.map((e) => [e.transactionHash, e.args._to, e.args._amount]),
          [
            [deployReceipt.hash, DEV_ADDRESS, 47n],
            [setReceipt.hash, DEV_ADDRESS, 123n],
          ],
        );
        const raw = await provider.getLogs({
          address: await contract.getAddress(),
          topics: [contract.interface.getEvent('stored').topicHash],
          fromBlock: 0,
          toBlock: 'latest',
        });
        assert.equal(raw.length, 2);
        assert.deepEqual(
          raw.map((l) => [l.blockNumber, l.blockHash]),
          [
            [deployReceipt.blockNumber, deployReceipt.blockHash],
            [setReceipt.blockNumber, setReceipt.blockHash],
          ],
        );
      });

      test('newHeads: provider.on("block") reports the block of a new transaction', T, async () => {
        const blocks = new Collector();
        await provider.on('block', blocks.push);
        try {
          await sleep(SUBSCRIBE_SETTLE_MS);
          const receipt = await (await contract.set(124)).wait();
          const seen = await blocks.waitFor((n) => n >= receipt.blockNumber, 10_000, `block ${receipt.blockNumber}`);
          assert.equal(typeof seen, 'number');
          assert.ok(blocks.values.includes(receipt.blockNumber), `block events ${blocks.values} lack ${receipt.blockNumber}`);
        } finally {
          await provider.off('block', blocks.push);
        }
      });

      test('logs: contract.on("stored") delivers the event of set(77)', T, async () => {
        const events = new Collector();
        const listener = (to, amount, payload) => events.push({ to, amount, payload });
        await contract.on('stored', listener);
        try {
          await sleep(SUBSCRIBE_SETTLE_MS);
          const tx = await contract.set(77);
          const receipt = await tx.wait();
          const ev = await events.waitFor((e) => e.amount === 77n, 10_000, 'stored(_, 77)');
          assert.equal(ev.to, DEV_ADDRESS);
          assert.equal(ev.payload.log.transactionHash, receipt.hash);
          assert.equal(ev.payload.log.blockNumber, receipt.blockNumber);
        } finally {
          await contract.off('stored', listener);
        }
      });
    });

    test('SimpleStorage built for London (GoQuorum-parity bytecode) deploys and works', T, async () => {
      const factory = new ethers.ContractFactory(SimpleStorageLondon.abi, SimpleStorageLondon.bytecode, wallet);
      const contract = await factory.deploy(9);
      await contract.waitForDeployment();
      assert.equal(await provider.getCode(await contract.getAddress()), SimpleStorageLondon.deployedBytecode);
      assert.equal(await contract.get(), 9n);
      await (await contract.set(10)).wait();
      assert.equal(await contract.get(), 10n);
    });

    describe('value transfers with free gas', () => {
      test('quickstart-style transfer (getFeeData + estimateGas) moves exactly the value', T, async () => {
        const to = ethers.Wallet.createRandom().address;
        const value = 0x10n;
        const before = await provider.getBalance(DEV_ADDRESS);
        assert.equal(await provider.getBalance(to), 0n);
        const nonce = await provider.getTransactionCount(DEV_ADDRESS);
        const feeData = await provider.getFeeData();
        const gasLimit = await provider.estimateGas({ from: DEV_ADDRESS, to, value });
        assert.ok(gasLimit >= 21000n, `estimateGas ${gasLimit}`);
        const tx = await wallet.sendTransaction({ nonce, to, value, gasPrice: feeData.gasPrice, gasLimit });
        const receipt = await tx.wait();
        assert.equal(receipt.status, 1);
        assert.equal(receipt.gasUsed, 21000n);
        assert.equal(await provider.getBalance(to), value);
        assert.equal(before - (await provider.getBalance(DEV_ADDRESS)), value, 'sender paid more than the value');
      });

      test('plain wallet.sendTransaction({to, value}) moves exactly the value', T, async () => {
        const to = ethers.Wallet.createRandom().address;
        const value = ethers.parseEther('1.5');
        const before = await provider.getBalance(DEV_ADDRESS);
        const receipt = await (await wallet.sendTransaction({ to, value })).wait();
        assert.equal(receipt.status, 1);
        assert.equal(receipt.gasPrice ?? 0n, 0n, 'effective gas price');
        assert.equal(await provider.getBalance(to), value);
        assert.equal(before - (await provider.getBalance(DEV_ADDRESS)), value, 'sender paid more than the value');
      });

      test('a fresh zero-balance account can transact (free gas)', T, async () => {
        const fresh = ethers.Wallet.createRandom().connect(provider);
        assert.equal(await provider.getBalance(fresh.address), 0n);
        const receipt = await (await fresh.sendTransaction({ to: DEV_ADDRESS, value: 0n })).wait();
        assert.equal(receipt.status, 1);
        assert.equal(receipt.from, fresh.address);
        assert.equal(await provider.getTransactionCount(fresh.address), 1);
      });
    });

    describe('Reverter: revert reasons and errors', () => {
      let reverter;

      before(async () => {
        const factory = new ethers.ContractFactory(Reverter.abi, Reverter.bytecode, wallet);
        reverter = await factory.deploy();
        await reverter.waitForDeployment();
      });

      test('sending to a require(false, "reason text") function surfaces the reason', T, async () => {
        assert.equal(await reverter.ok(), 7n, 'contract works');
        await expectCallException(reverter.revertWithReason(), (e) => {
          assert.equal(e.reason, 'reason text');
          assert.equal(e.revert?.name, 'Error');
        });
      });

      test('staticCall and view reverts carry their reasons', T, async () => {
        await expectCallException(reverter.revertWithReason.staticCall(), (e) => {
          assert.equal(e.reason, 'reason text');
          assert.deepEqual([...e.revert.args], ['reason text']);
        });
        await expectCallException(reverter.viewRevert(), (e) => assert.equal(e.reason, 'view reason'));
      });

      test('a custom error decodes with its arguments', T, async () => {
        await expectCallException(reverter.revertWithCustomError.staticCall(), (e) => {
          assert.equal(e.revert?.name, 'Unauthorized');
          assert.equal(e.revert.signature, 'Unauthorized(address,uint256)');
          assert.equal(e.revert.args[0], DEV_ADDRESS);
          assert.equal(e.revert.args[1], 42n);
        });
        // Sending: the estimateGas error carries the revert data, which the ABI decodes.
        await expectCallException(reverter.revertWithCustomError(), (e) => {
          const parsed = reverter.interface.parseError(e.data);
          assert.equal(parsed?.name, 'Unauthorized');
          assert.equal(parsed.args[1], 42n);
        });
      });

      test('assert and division by zero surface Panic codes', T, async () => {
        await expectCallException(reverter.panicAssert.staticCall(), (e) => {
          assert.equal(e.revert?.name, 'Panic');
          assert.equal(BigInt(e.revert.args[0]), 1n);
          assert.equal(e.reason, 'Panic due to ASSERT_FALSE(1)');
        });
        await expectCallException(reverter.divide(1, 0), (e) => {
          assert.equal(e.revert?.name, 'Panic');
          assert.equal(BigInt(e.revert.args[0]), 0x12n);
        });
        assert.equal(await reverter.divide(84, 2), 42n);
      });

      test('an empty revert is a CALL_EXCEPTION', T, async () => {
        await expectCallException(reverter.revertEmpty(), () => {});
      });

      test('a mined reverting transaction has status 0 and changes no state', T, async () => {
        const tx = await reverter.revertWithReason({ gasLimit: 200_000 });
        await assert.rejects(tx.wait(), (e) => {
          assert.equal(e.code, 'CALL_EXCEPTION');
          assert.equal(e.receipt?.status, 0);
          assert.equal(e.receipt.hash, tx.hash);
          return true;
        });
        assert.equal(await reverter.counter(), 0n);
      });
    });

    describe('Modern: PUSH0, TSTORE/TLOAD, MCOPY', () => {
      let modern;

      before(async () => {
        const factory = new ethers.ContractFactory(Modern.abi, Modern.bytecode, wallet);
        modern = await factory.deploy();
        await modern.waitForDeployment();
      });

      test('deploys with the exact runtime code', T, async () => {
        assert.equal(await provider.getCode(await modern.getAddress()), Modern.deployedBytecode);
        assert.equal(await modern.zero(), 0n);
      });

      test('transient storage: TSTORE/TLOAD round trip within a call, cleared after the transaction', T, async () => {
        assert.equal(await modern.transientRoundTrip.staticCall(99n), 99n);
        const receipt = await (await modern.transientRoundTrip(5n)).wait();
        assert.equal(receipt.status, 1);
        assert.equal(await modern.transientAfterTx(), 0n);
      });

      test('guardedSum stores, emits Summed and uses the transient guard', T, async () => {
        const receipt = await (await modern.guardedSum([1n, 2n, 3n, 4n])).wait();
        assert.equal(receipt.status, 1);
        const ev = receipt.logs.map((l) => modern.interface.parseLog(l)).find((p) => p?.name === 'Summed');
        assert.equal(ev?.args.sum, 10n);
        assert.equal(await modern.lastSum(), 10n);
      });

      test('MCOPY copies memory (view and stored)', T, async () => {
        const data = ethers.hexlify(ethers.randomBytes(70));
        assert.equal(await modern.memCopy(data), data);
        const receipt = await (await modern.storeCopy(data)).wait();
        const ev = receipt.logs.map((l) => modern.interface.parseLog(l)).find((p) => p?.name === 'Copied');
        assert.equal(ev?.args.data, data);
        assert.equal(await modern.lastCopy(), data);
      });
    });

    describe('ERC-20 QrsToken', () => {
      const SUPPLY = 1_000_000n * 10n ** 18n;
      let token;
      let deployReceipt;

      before(async () => {
        const factory = new ethers.ContractFactory(QrsToken.abi, QrsToken.bytecode, wallet);
        token = await factory.deploy(SUPPLY);
        await token.waitForDeployment();
        deployReceipt = await token.deploymentTransaction().wait();
      });

      test('mints the supply to the deployer with a Transfer from 0x0', T, async () => {
        assert.equal(await token.totalSupply(), SUPPLY);
        assert.equal(await token.balanceOf(DEV_ADDRESS), SUPPLY);
        assert.equal(await token.symbol(), 'QRS');
        assert.equal(await token.decimals(), 18n);
        const mint = deployReceipt.logs.map((l) => token.interface.parseLog(l)).find((p) => p?.name === 'Transfer');
        assert.deepEqual([...mint.args], [ethers.ZeroAddress, DEV_ADDRESS, SUPPLY]);
      });

      test('transfer moves tokens and emits Transfer', T, async () => {
        const to = ethers.Wallet.createRandom().address;
        const receipt = await (await token.transfer(to, 1000n)).wait();
        assert.equal(receipt.status, 1);
        assert.equal(receipt.logs.length, 1);
        assert.equal(receipt.logs[0].eventName, 'Transfer');
        assert.deepEqual([...receipt.logs[0].args], [DEV_ADDRESS, to, 1000n]);
        assert.equal(await token.balanceOf(to), 1000n);
        assert.equal(await token.balanceOf(DEV_ADDRESS), SUPPLY - 1000n);
        const filtered = await token.queryFilter(token.filters.Transfer(null, to));
        assert.equal(filtered.length, 1);
        assert.equal(filtered[0].transactionHash, receipt.hash);
      });

      test('approve + transferFrom by the spender, with Approval and Transfer events', T, async () => {
        const spender = ethers.Wallet.createRandom().connect(provider);
        await (await wallet.sendTransaction({ to: spender.address, value: ethers.parseEther('1') })).wait();
        const approveReceipt = await (await token.approve(spender.address, 500n)).wait();
        assert.equal(approveReceipt.logs[0].eventName, 'Approval');
        assert.deepEqual([...approveReceipt.logs[0].args], [DEV_ADDRESS, spender.address, 500n]);
        assert.equal(await token.allowance(DEV_ADDRESS, spender.address), 500n);

        const asSpender = token.connect(spender);
        const receipt = await (await asSpender.transferFrom(DEV_ADDRESS, spender.address, 200n)).wait();
        assert.equal(receipt.status, 1);
        const ev = receipt.logs.map((l) => token.interface.parseLog(l)).find((p) => p?.name === 'Transfer');
        assert.deepEqual([...ev.args], [DEV_ADDRESS, spender.address, 200n]);
        assert.equal(await token.allowance(DEV_ADDRESS, spender.address), 300n);
        assert.equal(await token.balanceOf(spender.address), 200n);
      });

      test('overspending reverts with the InsufficientBalance custom error', T, async () => {
        const poor = ethers.Wallet.createRandom().connect(provider);
        await expectCallException(token.connect(poor).transfer.staticCall(DEV_ADDRESS, 1n), (e) => {
          assert.equal(e.revert?.name, 'InsufficientBalance');
          assert.deepEqual([...e.revert.args], [poor.address, 0n, 1n]);
        });
      });
    });
  });
}
