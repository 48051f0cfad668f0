// web3.js 1.x (the web3js-quorum / quickstart generation) against a qnode dev chain: a local-wallet path
// (accounts.signTransaction + eth.sendSignedTransaction) and a node-signed path (contract.methods.x().send({from})
// -> eth_sendTransaction), over HTTP; subscriptions over WebSocket. No gas-price or transaction-type settings:
// web3 1.x picks legacy or EIP-1559 pricing from the node's latest block and eth_gasPrice.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const Web3 = require('web3-v1');
const Web3Quorum = require('web3js-quorum');
const { DEV_ADDRESS, CHAIN_ID, nodeEnv, artifact, sleep, Collector } = require('./helpers.cjs');

const env = nodeEnv();
const SimpleStorage = artifact('SimpleStorage');
const Reverter = artifact('Reverter');

const SUBSCRIBE_SETTLE_MS = 600;
const T = { timeout: 30_000 };
const STORED_TOPIC = Web3.utils.sha3('stored(address,uint256)');

/** Signs `tx` (gas from eth_estimateGas; nonce, chain id and pricing filled by web3) and sends it raw. */
async function signAndSend(web3, tx) {
  const gas = await web3.eth.estimateGas({ ...tx, from: DEV_ADDRESS });
  const signed = await web3.eth.accounts.signTransaction({ ...tx, gas }, env.devKey);
  const receipt = await web3.eth.sendSignedTransaction(signed.rawTransaction);
  assert.equal(receipt.transactionHash, signed.transactionHash, 'node returned keccak(raw) as the hash');
  return receipt;
}

function decodeStored(web3, log) {
  assert.equal(log.topics[0], STORED_TOPIC);
  const { _to, _amount } = web3.eth.abi.decodeLog(
    SimpleStorage.abi.find((e) => e.type === 'event' && e.name === 'stored').inputs,
    log.data,
    log.topics.slice(1),
  );
  return [_to, _amount];
}

describe('web3.js 1.x over HTTP', { timeout: 180_000 }, () => {
  let web3;

  before(() => {
    web3 = new Web3(env.httpUrl);
  });

  test('chain id and network id', T, async () => {
    assert.equal(await web3.eth.getChainId(), CHAIN_ID);
    assert.ok((await web3.eth.net.getId()) > 0);
    assert.ok(BigInt(await web3.eth.getBalance(DEV_ADDRESS)) > 0n);
  });

  describe('local wallet: signTransaction + sendSignedTransaction', () => {
    let address;
    let deployReceipt;
    let setReceipt;

    test('deploys SimpleStorage(47) and reads 47', T, async () => {
      const data = new web3.eth.Contract(SimpleStorage.abi).deploy({ data: SimpleStorage.bytecode, arguments: [47] }).encodeABI();
      deployReceipt = await signAndSend(web3, { data });
      assert.equal(deployReceipt.status, true);
      address = deployReceipt.contractAddress;
      assert.ok(address, 'receipt has contractAddress');
      assert.equal(await web3.eth.getCode(address), SimpleStorage.deployedBytecode);
      assert.deepEqual(decodeStored(web3, deployReceipt.logs[0]), [DEV_ADDRESS, '47']);
      const contract = new web3.eth.Contract(SimpleStorage.abi, address);
      assert.equal(await contract.methods.get().call(), '47');
    });

    test('set(123) via a signed transaction; the receipt log is stored(dev, 123); reads 123', T, async () => {
      const contract = new web3.eth.Contract(SimpleStorage.abi, address);
      setReceipt = await signAndSend(web3, { to: address, data: contract.methods.set(123).encodeABI() });
      assert.equal(setReceipt.status, true);
      assert.equal(setReceipt.logs.length, 1);
      assert.equal(setReceipt.logs[0].address, address);
      assert.deepEqual(decodeStored(web3, setReceipt.logs[0]), [DEV_ADDRESS, '123']);
      assert.equal(await contract.methods.get().call(), '123');
    });

    test('getPastEvents returns the constructor and set() events', T, async () => {
      const contract = new web3.eth.Contract(SimpleStorage.abi, address);
      const events = await contract.getPastEvents('stored', { fromBlock: deployReceipt.blockNumber, toBlock: 'latest' });
      assert.deepEqual(
        events.map((e) => [e.transactionHash, e.returnValues._amount]),
        [
          [deployReceipt.transactionHash, '47'],
          [setReceipt.transactionHash, '123'],
        ],
      );
    });

    test('a signed value transfer moves exactly the value (free gas)', T, async () => {
      const to = web3.eth.accounts.create().address;
      const value = '1000000000000000';
      const before = BigInt(await web3.eth.getBalance(DEV_ADDRESS));
      const receipt = await signAndSend(web3, { to, value });
      assert.equal(receipt.status, true);
      assert.equal(await web3.eth.getBalance(to), value);
      assert.equal(before - BigInt(await web3.eth.getBalance(DEV_ADDRESS)), BigInt(value), 'sender paid more than the value');
    });
  });

  describe('node-signed: contract.methods.x().send({from})', () => {
    let contract;

    test('deploys SimpleStorage(47) through eth_sendTransaction and reads 47', T, async () => {
      contract = await new web3.eth.Contract(SimpleStorage.abi)
        .deploy({ data: SimpleStorage.bytecode, arguments: [47] })
        .send({ from: DEV_ADDRESS });
      assert.ok(contract.options.address);
      assert.equal(await contract.methods.get().call(), '47');
    });

    test('set(5).send({from}) resolves with a decoded stored event; reads 5', T, async () => {
      const receipt = await contract.methods.set(5).send({ from: DEV_ADDRESS });
      assert.equal(receipt.status, true);
      assert.equal(receipt.from.toLowerCase(), DEV_ADDRESS.toLowerCase());
      assert.equal(receipt.events.stored.returnValues._to, DEV_ADDRESS);
      assert.equal(receipt.events.stored.returnValues._amount, '5');
      assert.equal(await contract.methods.get().call(), '5');
      const events = await contract.getPastEvents('stored', { fromBlock: 0, toBlock: 'latest' });
      assert.deepEqual(
        events.map((e) => e.returnValues._amount),
        ['47', '5'],
      );
    });

    test('a node-signed value transfer moves exactly the value (free gas)', T, async () => {
      const to = web3.eth.accounts.create().address;
      const value = '123456789';
      const before = BigInt(await web3.eth.getBalance(DEV_ADDRESS));
      const receipt = await web3.eth.sendTransaction({ from: DEV_ADDRESS, to, value });
      assert.equal(receipt.status, true);
      assert.equal(await web3.eth.getBalance(to), value);
      assert.equal(before - BigInt(await web3.eth.getBalance(DEV_ADDRESS)), BigInt(value), 'sender paid more than the value');
    });
  });

  describe('reverts', () => {
    let reverter;

    before(async () => {
      reverter = await new web3.eth.Contract(Reverter.abi)
        .deploy({ data: Reverter.bytecode })
        .send({ from: DEV_ADDRESS });
    });

    test('a view revert reports "execution reverted: <reason>" with the revert data', T, async () => {
      assert.equal(await reverter.methods.ok().call(), '7');
      await assert.rejects(reverter.methods.viewRevert().call(), (e) => {
        assert.match(e.message, /execution reverted: view reason/);
        assert.equal(typeof e.data, 'string', `error.data: ${JSON.stringify(e.data)}`);
        assert.equal(e.data.slice(0, 10), '0x08c379a0');
        assert.equal(web3.eth.abi.decodeParameter('string', `0x${e.data.slice(10)}`), 'view reason');
        return true;
      });
    });

    test('a custom error comes back as revert data that the ABI decodes', T, async () => {
      await assert.rejects(reverter.methods.revertWithCustomError().call({ from: DEV_ADDRESS }), (e) => {
        assert.match(e.message, /execution reverted/);
        const selector = web3.eth.abi.encodeFunctionSignature('Unauthorized(address,uint256)');
        assert.equal(e.data?.slice(0, 10), selector);
        const args = web3.eth.abi.decodeParameters(['address', 'uint256'], `0x${e.data.slice(10)}`);
        assert.equal(args[0], DEV_ADDRESS);
        assert.equal(args[1], '42');
        return true;
      });
    });

    test('sending to a reverting function fails with the reason', T, async () => {
      await assert.rejects(reverter.methods.revertWithReason().send({ from: DEV_ADDRESS }), (e) => {
        assert.match(String(e.message), /execution reverted: reason text/);
        return true;
      });
      assert.equal(await reverter.methods.counter().call(), '0');
    });
  });
});

describe('web3js-quorum 22.4.0 (GoQuorum mode) wrapping web3.js 1.x', { timeout: 60_000 }, () => {
  test('the wrapped instance keeps the public node-signed flow working', T, async () => {
    const web3 = Web3Quorum(new Web3(env.httpUrl), {}, true);
    assert.equal(typeof web3.priv.generateAndSendRawTransaction, 'function', 'web3js-quorum extended the instance');
    assert.equal(typeof web3.eth.sendRawPrivateTransaction, 'function');
    const contract = await new web3.eth.Contract(SimpleStorage.abi)
      .deploy({ data: SimpleStorage.bytecode, arguments: [47] })
      .send({ from: DEV_ADDRESS });
    assert.equal(await contract.methods.get().call(), '47');
    const receipt = await contract.methods.set(123).send({ from: DEV_ADDRESS });
    assert.equal(receipt.status, true);
    assert.equal(receipt.events.stored.returnValues._amount, '123');
    assert.equal(await contract.methods.get().call(), '123');
  });
});

describe('web3.js 1.x over WebSocket', { timeout: 120_000 }, () => {
  let web3;

  before(() => {
    web3 = new Web3(env.wsUrl);
  });

  after(() => {
    web3.currentProvider.disconnect();
  });

  test('node-signed deploy and send over WS', T, async () => {
    const contract = await new web3.eth.Contract(SimpleStorage.abi)
      .deploy({ data: SimpleStorage.bytecode, arguments: [47] })
      .send({ from: DEV_ADDRESS });
    assert.equal(await contract.methods.get().call(), '47');
    const receipt = await contract.methods.set(123).send({ from: DEV_ADDRESS });
    assert.equal(receipt.events.stored.returnValues._amount, '123');
    assert.equal(await contract.methods.get().call(), '123');
  });

  test('newBlockHeaders subscription reports the block of a new transaction', T, async () => {
    const blocks = new Collector();
    const sub = web3.eth.subscribe('newBlockHeaders').on('data', (h) => blocks.push(Number(h.number)));
    try {
      await sleep(SUBSCRIBE_SETTLE_MS);
      const receipt = await web3.eth.sendTransaction({ from: DEV_ADDRESS, to: DEV_ADDRESS, value: '1' });
      await blocks.waitFor((n) => n >= receipt.blockNumber, 10_000, `block ${receipt.blockNumber}`);
      assert.ok(blocks.values.includes(receipt.blockNumber), `heads ${blocks.values}`);
    } finally {
      await new Promise((resolve) => sub.unsubscribe(resolve));
    }
  });

  test('contract.events.stored delivers the set() event', T, async () => {
    const contract = await new web3.eth.Contract(SimpleStorage.abi)
      .deploy({ data: SimpleStorage.bytecode, arguments: [1] })
      .send({ from: DEV_ADDRESS });
    const events = new Collector();
    const sub = contract.events.stored().on('data', (e) => events.push(e));
    try {
      await sleep(SUBSCRIBE_SETTLE_MS);
      const receipt = await contract.methods.set(77).send({ from: DEV_ADDRESS });
      const ev = await events.waitFor((e) => e.returnValues._amount === '77', 10_000, 'stored(_, 77)');
      assert.equal(ev.returnValues._to, DEV_ADDRESS);
      assert.equal(ev.transactionHash, receipt.transactionHash);
    } finally {
      await new Promise((resolve) => sub.unsubscribe(resolve));
    }
  });
});
