// web3.js v4 against a qnode dev chain: a local wallet (eth_sendRawTransaction) and node-signed
// (eth_sendTransaction) over HTTP, and subscriptions over WebSocket. No gas-price or transaction-type
// settings anywhere: web3 v4 chooses them from the node (it needs baseFeePerGas for its default type 2).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Web3 } from 'web3';
import helpers from './helpers.cjs';

const { DEV_ADDRESS, CHAIN_ID, nodeEnv, artifact, sleep, Collector } = helpers;
const env = nodeEnv();

const SimpleStorage = artifact('SimpleStorage');
const Reverter = artifact('Reverter');
const QrsToken = artifact('QrsToken');

const POLL_MS = 200;
const SUBSCRIBE_SETTLE_MS = 600;
const T = { timeout: 30_000 };

/** A Web3 instance with fast receipt polling (a client setting, not a fee setting). */
function makeWeb3(url, withWallet) {
  const web3 = new Web3(url);
  web3.transactionPollingInterval = POLL_MS;
  if (withWallet) {
    const account = web3.eth.accounts.wallet.add(env.devKey).get(0);
    assert.equal(account.address, DEV_ADDRESS);
  }
  return web3;
}

/** Deploys `art` with `args` from the dev account; resolves with {contract, receipt}. */
async function deploy(web3, art, args) {
  let receipt;
  const contract = await new web3.eth.Contract(art.abi)
    .deploy({ data: art.bytecode, arguments: args })
    .send({ from: DEV_ADDRESS })
    .on('receipt', (r) => {
      receipt = r;
    });
  assert.ok(receipt, 'deploy emitted its receipt');
  assert.equal(receipt.status, 1n);
  assert.equal(receipt.contractAddress.toLowerCase(), contract.options.address.toLowerCase());
  return { contract, receipt };
}

async function expectContractError(promise, check) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'ContractExecutionError', `expected ContractExecutionError, got ${e.name}: ${e.message}`);
    check(e.cause);
    return true;
  });
}

/** The quickstart flow plus events and reverts, shared by the wallet and node-signed variants. */
function contractFlow(label, withWallet) {
  describe(`web3.js v4 ${label}`, { timeout: 120_000 }, () => {
    let web3;

    before(() => {
      web3 = makeWeb3(env.httpUrl, withWallet);
    });

    test('chain id and network id', T, async () => {
      assert.equal(await web3.eth.getChainId(), BigInt(CHAIN_ID));
      assert.ok((await web3.eth.net.getId()) > 0n);
      assert.ok((await web3.eth.getBalance(DEV_ADDRESS)) > 0n);
    });

    describe('SimpleStorage', () => {
      let contract;
      let deployReceipt;
      let setReceipt;

      test('deploys SimpleStorage(47) and reads 47', T, async () => {
        ({ contract, receipt: deployReceipt } = await deploy(web3, SimpleStorage, [47]));
        assert.equal(await web3.eth.getCode(contract.options.address), SimpleStorage.deployedBytecode);
        assert.equal(await contract.methods.get().call(), 47n);
        assert.equal(await contract.methods.storedData().call(), 47n);
      });

      test('set(123) resolves with a receipt carrying stored(dev, 123); reads 123', T, async () => {
        setReceipt = await contract.methods.set(123).send({ from: DEV_ADDRESS });
        assert.equal(setReceipt.status, 1n);
        const ev = setReceipt.events?.stored;
        assert.ok(ev, `receipt events: ${Object.keys(setReceipt.events ?? {})}`);
        assert.equal(ev.returnValues._to, DEV_ADDRESS);
        assert.equal(ev.returnValues._amount, 123n);
        assert.equal(await contract.methods.get().call(), 123n);
      });

      test('getPastEvents returns the constructor and set() events', T, async () => {
        const events = await contract.getPastEvents('stored', { fromBlock: deployReceipt.blockNumber, toBlock: 'latest' });
        assert.deepEqual(
          events.map((e) => [e.transactionHash, e.returnValues._amount]),
          [
            [deployReceipt.transactionHash, 47n],
            [setReceipt.transactionHash, 123n],
          ],
        );
      });
    });

    test('a value transfer moves exactly the value (free gas)', T, async () => {
      const to = web3.eth.accounts.create().address;
      const value = 10n ** 15n;
      const before = await web3.eth.getBalance(DEV_ADDRESS);
      const receipt = await web3.eth.sendTransaction({ from: DEV_ADDRESS, to, value });
      assert.equal(receipt.status, 1n);
      assert.equal(receipt.gasUsed, 21000n);
      assert.equal(await web3.eth.getBalance(to), value);
      assert.equal(before - (await web3.eth.getBalance(DEV_ADDRESS)), value, 'sender paid more than the value');
    });

    describe('reverts', () => {
      let reverter;

      before(async () => {
        ({ contract: reverter } = await deploy(web3, Reverter, []));
      });

      test('a view revert carries its reason', T, async () => {
        assert.equal(await reverter.methods.ok().call(), 7n);
        await expectContractError(reverter.methods.viewRevert().call(), (cause) => {
          assert.equal(cause.errorName, 'Error');
          assert.equal(cause.errorArgs.message, 'view reason');
        });
      });

      test('sending to a require(false, "reason text") function surfaces the reason', T, async () => {
        await expectContractError(reverter.methods.revertWithReason().send({ from: DEV_ADDRESS }), (cause) => {
          assert.equal(cause.errorName, 'Error');
          assert.equal(cause.errorArgs.message, 'reason text');
        });
      });

      test('a custom error decodes with its arguments', T, async () => {
        await expectContractError(reverter.methods.revertWithCustomError().call({ from: DEV_ADDRESS }), (cause) => {
          assert.equal(cause.errorName, 'Unauthorized');
          assert.equal(cause.errorSignature, 'Unauthorized(address,uint256)');
          assert.equal(cause.errorArgs.caller, DEV_ADDRESS);
          assert.equal(cause.errorArgs.code, 42n);
        });
      });
    });

    test('ERC-20 transfer emits Transfer and moves the balance', T, async () => {
      const supply = 10n ** 24n;
      const { contract: token } = await deploy(web3, QrsToken, [supply]);
      assert.equal(await token.methods.balanceOf(DEV_ADDRESS).call(), supply);
      const to = web3.eth.accounts.create().address;
      const receipt = await token.methods.transfer(to, 250n).send({ from: DEV_ADDRESS });
      assert.equal(receipt.status, 1n);
      const ev = receipt.events?.Transfer;
      assert.equal(ev?.returnValues.from, DEV_ADDRESS);
      assert.equal(ev.returnValues.to, to);
      assert.equal(ev.returnValues.value, 250n);
      assert.equal(await token.methods.balanceOf(to).call(), 250n);
    });
  });
}

contractFlow('with a local wallet (eth_sendRawTransaction)', true);
contractFlow('node-signed (eth_sendTransaction, account unlocked in the node)', false);

describe('web3.js v4 over WebSocket', { timeout: 120_000 }, () => {
  let ws;

  before(() => {
    ws = makeWeb3(env.wsUrl, true);
  });

  after(async () => {
    await ws?.eth?.clearSubscriptions?.();
    await ws?.provider?.disconnect?.();
  });

  test('deploy, call and send over WS', T, async () => {
    const { contract } = await deploy(ws, SimpleStorage, [47]);
    assert.equal(await contract.methods.get().call(), 47n);
    const receipt = await contract.methods.set(123).send({ from: DEV_ADDRESS });
    assert.equal(receipt.events?.stored?.returnValues._amount, 123n);
    assert.equal(await contract.methods.get().call(), 123n);
  });

  test('newHeads subscription reports the block of a new transaction', T, async () => {
    const blocks = new Collector();
    const sub = await ws.eth.subscribe('newHeads');
    sub.on('data', (h) => blocks.push(Number(h.number)));
    try {
      await sleep(SUBSCRIBE_SETTLE_MS);
      const receipt = await ws.eth.sendTransaction({ from: DEV_ADDRESS, to: DEV_ADDRESS, value: 1n });
      await blocks.waitFor((n) => n >= Number(receipt.blockNumber), 10_000, `block ${receipt.blockNumber}`);
      assert.ok(blocks.values.includes(Number(receipt.blockNumber)), `heads ${blocks.values}`);
    } finally {
      await sub.unsubscribe();
    }
  });

  test('contract.events.stored delivers the set() event', T, async () => {
    const { contract } = await deploy(ws, SimpleStorage, [1]);
    const events = new Collector();
    const sub = contract.events.stored();
    sub.on('data', (e) => events.push(e));
    try {
      await sleep(SUBSCRIBE_SETTLE_MS);
      const receipt = await contract.methods.set(77).send({ from: DEV_ADDRESS });
      const ev = await events.waitFor((e) => e.returnValues._amount === 77n, 10_000, 'stored(_, 77)');
      assert.equal(ev.returnValues._to, DEV_ADDRESS);
      assert.equal(ev.transactionHash, receipt.transactionHash);
    } finally {
      await sub.unsubscribe();
    }
  });
});
