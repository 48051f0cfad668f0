// Private transactions on a network with a qtm per member, through unmodified web3js-quorum 22.4
// (GoQuorum mode, wrapping web3.js 1.x) and through plain ethers v6 (the raw path by hand).
// QRS_MEMBERS: JSON [{rpc, tp, key}] for member1..member3 (node RPC URL, TM ThirdParty URL, TM
// public key); QRS_DEV_KEY: a funded account key, also unlocked on member1's node.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const Web3 = require('web3-v1');
const Web3Quorum = require('web3js-quorum');
const { artifact, sleep } = require('./helpers.cjs');

const members = JSON.parse(process.env.QRS_MEMBERS || '[]');
const devKey = process.env.QRS_DEV_KEY;
const SimpleStorage = artifact('SimpleStorage');
const T = { timeout: 60_000 };
// QRS_PMT=1: the nodes run with --privacymarker.enable (node-signed private transactions are
// privacy marker transactions to the precompile)
const pmt = process.env.QRS_PMT === '1';
const PRECOMPILE = '0x000000000000000000000000000000000000007a';

function web3For(m) {
  return Web3Quorum(new Web3(m.rpc), { privateUrl: m.tp }, true);
}

async function rpc(url, method, params) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function eventually(what, fn, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

test('web3js-quorum: private deploy from member1 for member3; member2 sees nothing', T, async () => {
  assert.equal(members.length, 3, 'QRS_MEMBERS lists three members');
  const [m1, m2, m3] = members;
  const w1 = web3For(m1);
  const w2 = web3For(m2);
  const w3 = web3For(m3);
  const account = w1.eth.accounts.privateKeyToAccount(devKey);

  const deployData = new w1.eth.Contract(SimpleStorage.abi)
    .deploy({ data: SimpleStorage.bytecode, arguments: [47] })
    .encodeABI();
  const nonce = await w1.eth.getTransactionCount(account.address);
  // in GoQuorum mode it sends, then waits for and resolves to the receipt
  const receipt = await w1.priv.generateAndSendRawTransaction({
    data: deployData,
    privateFrom: m1.key,
    privateFor: [m3.key],
    from: account,
    isPrivate: true,
    nonce,
    gasLimit: 3_000_000,
    gasPrice: 0,
    value: 0,
  });
  const txHash = receipt.transactionHash;
  assert.ok(receipt.status, `private deploy succeeded: ${JSON.stringify(receipt)}`);
  const address = receipt.contractAddress;
  assert.match(address, /^0x[0-9a-fA-F]{40}$/);

  // parties read 47; the non-party has no code and an empty call result
  const c1 = new w1.eth.Contract(SimpleStorage.abi, address);
  const c3 = new w3.eth.Contract(SimpleStorage.abi, address);
  assert.equal(await c1.methods.get().call(), '47');
  await eventually('member3 to read 47', async () => (await c3.methods.get().call()) === '47');
  assert.equal(await w2.eth.getCode(address), '0x');
  const getData = c1.methods.get().encodeABI();
  assert.equal(await rpc(m2.rpc, 'eth_call', [{ to: address, data: getData }, 'latest']), '0x');

  // a node-signed private set(123) from member1's unlocked account
  const set = await c1.methods.set(123).send({ from: account.address, privateFor: [m3.key], gas: 500_000 });
  assert.ok(set.status);
  assert.equal(await c1.methods.get().call(), '123');
  await eventually('member3 to read 123', async () => (await c3.methods.get().call()) === '123');

  // every member sees the public transaction: v 0x25/0x26 and the 64-byte TM hash as input
  for (const m of members) {
    const tx = await eventually('the tx on every node', () => rpc(m.rpc, 'eth_getTransactionByHash', [txHash]));
    assert.ok(['0x25', '0x26'].includes(tx.v), `v ${tx.v}`);
    assert.equal(tx.input.length, 2 + 128, 'input is the 64-byte TM hash');
  }
  const input = (await rpc(m1.rpc, 'eth_getTransactionByHash', [txHash])).input;
  assert.notEqual(await rpc(m1.rpc, 'eth_getQuorumPayload', [input]), '0x');
  assert.notEqual(await rpc(m3.rpc, 'eth_getQuorumPayload', [input]), '0x');
  assert.equal(await rpc(m2.rpc, 'eth_getQuorumPayload', [input]), '0x');

  // member2 only has the public receipt: status 1, no logs from the private set
  const r2 = await rpc(m2.rpc, 'eth_getTransactionReceipt', [set.transactionHash]);
  assert.equal(r2.status, '0x1');
  assert.deepEqual(r2.logs, []);
  const r1 = await rpc(m1.rpc, 'eth_getTransactionReceipt', [set.transactionHash]);
  if (pmt) {
    // the PMT's public receipt; the private event is on the inner transaction's receipt
    assert.equal(r1.isPrivacyMarkerTransaction, true);
    assert.equal(r1.to, PRECOMPILE);
    assert.deepEqual(r1.logs, []);
    const inner = await rpc(m1.rpc, 'eth_getPrivateTransactionReceipt', [set.transactionHash]);
    assert.equal(inner.logs.length, 1, 'the party sees the private event');
    assert.equal(inner.to, address.toLowerCase());
  } else {
    assert.equal(r1.isPrivacyMarkerTransaction, false);
    assert.equal(r1.logs.length, 1, 'the party sees the private event');
  }

  // all nodes keep one public state root
  const heights = await Promise.all(members.map((m) => rpc(m.rpc, 'eth_blockNumber', [])));
  const common = Math.min(...heights.map(Number));
  const roots = await Promise.all(
    members.map((m) => rpc(m.rpc, 'eth_getBlockByNumber', ['0x' + common.toString(16), false])),
  );
  for (const b of roots) assert.equal(b.stateRoot, roots[0].stateRoot);
});

test('ethers v6: the raw private deploy by hand (/storeraw, chain id 0, v 37/38)', T, async () => {
  const { ethers } = await import('ethers');
  const [m1, m2, m3] = members;
  const provider = new ethers.JsonRpcProvider(m1.rpc, undefined, { cacheTimeout: -1 });
  const wallet = new ethers.Wallet(devKey, provider);
  const factory = new ethers.ContractFactory(SimpleStorage.abi, SimpleStorage.bytecode);
  const deployData = (await factory.getDeployTransaction(47)).data;
  // 1. store the payload in member1's TM
  const res = await fetch(`${m1.tp}/storeraw`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payload: Buffer.from(deployData.slice(2), 'hex').toString('base64'), from: m1.key }),
  });
  assert.equal(res.status, 200);
  const hash = '0x' + Buffer.from((await res.json()).key, 'base64').toString('hex');
  // 2. sign a legacy tx with no chain id (Homestead), then rewrite v 27/28 -> 37/38
  const nonce = await provider.getTransactionCount(wallet.address, 'pending');
  const tx = ethers.Transaction.from({ type: 0, nonce, gasPrice: 0, gasLimit: 3_000_000, data: hash, value: 0 });
  const sig = wallet.signingKey.sign(tx.unsignedHash);
  const fields = [
    ethers.toBeArray(nonce), '0x', ethers.toBeArray(3_000_000), '0x', '0x', hash,
    ethers.toBeArray(sig.v + 10), sig.r, sig.s,
  ].map((f) => (f instanceof Uint8Array ? ethers.hexlify(f) : f));
  const raw = ethers.encodeRlp(fields.map((f) => (f === '0x00' ? '0x' : f)));
  // 3. eth_sendRawPrivateTransaction
  const txHash = await provider.send('eth_sendRawPrivateTransaction', [raw, { privateFor: [m3.key] }]);
  const receipt = await provider.waitForTransaction(txHash, 1, 60_000);
  assert.equal(receipt.status, 1);
  const c1 = new ethers.Contract(receipt.contractAddress, SimpleStorage.abi, provider);
  assert.equal(await c1.get(), 47n);
  const p3 = new ethers.JsonRpcProvider(m3.rpc, undefined, { cacheTimeout: -1 });
  const c3 = new ethers.Contract(receipt.contractAddress, SimpleStorage.abi, p3);
  await eventually('member3 to read 47', async () => (await c3.get()) === 47n);
  assert.equal(await rpc(m2.rpc, 'eth_getCode', [receipt.contractAddress, 'latest']), '0x');
  provider.destroy();
  p3.destroy();
});

test('privacy marker transactions: node-signed private deploy, the PMT and the three PMT RPCs',
  { ...T, skip: !pmt && 'needs --privacymarker.enable (tests/it/network_pmt.rs)' }, async () => {
  const [m1, m2, m3] = members;
  const w1 = web3For(m1);
  const from = w1.eth.accounts.privateKeyToAccount(devKey).address.toLowerCase();
  const deployData = new w1.eth.Contract(SimpleStorage.abi)
    .deploy({ data: SimpleStorage.bytecode, arguments: [47] })
    .encodeABI();
  const pmtHash = await rpc(m1.rpc, 'eth_sendTransaction', [
    { from, data: deployData, gas: '0x2dc6c0', privateFor: [m3.key] },
  ]);
  // the public PMT receipt: status 1, to the precompile, no logs, no contract address
  const pub = await eventually('the PMT receipt', () => rpc(m1.rpc, 'eth_getTransactionReceipt', [pmtHash]));
  assert.equal(pub.status, '0x1');
  assert.equal(pub.to, PRECOMPILE);
  assert.equal(pub.contractAddress, null);
  assert.deepEqual(pub.logs, []);
  assert.equal(pub.isPrivacyMarkerTransaction, true);
  // every node sees a public EIP-155 transaction carrying the 64-byte TM hash
  const chainId = Number(await rpc(m1.rpc, 'eth_chainId', []));
  const tx = await eventually('the PMT on member2', () => rpc(m2.rpc, 'eth_getTransactionByHash', [pmtHash]));
  assert.equal(tx.to, PRECOMPILE);
  assert.equal(tx.from, from);
  assert.equal(tx.input.length, 2 + 128);
  assert.ok([chainId * 2 + 35, chainId * 2 + 36].includes(Number(tx.v)), `EIP-155 v ${tx.v}`);
  let address;
  for (const m of [m1, m3]) {
    const inner = await eventually('the inner tx', () => rpc(m.rpc, 'eth_getPrivateTransactionByHash', [pmtHash]));
    assert.ok(['0x25', '0x26'].includes(inner.v), `inner v ${inner.v}`);
    assert.equal(inner.from, from);
    assert.equal(inner.to, null);
    assert.equal(inner.nonce, tx.nonce, 'the PMT has the inner nonce');
    assert.equal(inner.input.length, 2 + 128, 'the inner input is its own TM hash');
    assert.notEqual(inner.input, tx.input);
    assert.notEqual(inner.hash, pmtHash);
    assert.equal(inner.blockHash, pub.blockHash);
    assert.equal(inner.blockNumber, pub.blockNumber);
    assert.equal(inner.transactionIndex, pub.transactionIndex);
    const r = await eventually('the inner receipt', () => rpc(m.rpc, 'eth_getPrivateTransactionReceipt', [pmtHash]));
    assert.equal(r.transactionHash, pmtHash);
    assert.equal(r.status, '0x1');
    assert.equal(r.from, from);
    assert.equal(r.to, null);
    assert.equal(r.isPrivacyMarkerTransaction, false);
    assert.match(r.contractAddress, /^0x[0-9a-f]{40}$/);
    assert.equal(r.logs.length, 1, 'the constructor event on each party');
    address = address || r.contractAddress;
    assert.equal(r.contractAddress, address);
    // eth_getLogs finds the inner transaction's event, at the PMT's position (GoQuorum's GetLogs)
    const range = { address, fromBlock: pub.blockNumber, toBlock: pub.blockNumber };
    const logs = await rpc(m.rpc, 'eth_getLogs', [range]);
    assert.equal(logs.length, 1, `eth_getLogs on a party: ${JSON.stringify(logs)}`);
    assert.equal(logs[0].transactionHash, pmtHash);
    assert.equal(logs[0].transactionIndex, pub.transactionIndex);
    assert.equal(logs[0].blockHash, pub.blockHash);
    assert.deepEqual(logs[0].topics, r.logs[0].topics);
    assert.equal(logs[0].data, r.logs[0].data);
  }
  const range = { address, fromBlock: pub.blockNumber, toBlock: pub.blockNumber };
  assert.deepEqual(await rpc(m2.rpc, 'eth_getLogs', [range]), [], 'the non-party sees no log');
  // parties read 47, the non-party sees nothing
  const getData = new w1.eth.Contract(SimpleStorage.abi).methods.get().encodeABI();
  for (const m of [m1, m3]) {
    const v = await eventually('47 on a party', async () => {
      const out = await rpc(m.rpc, 'eth_call', [{ to: address, data: getData }, 'latest']);
      return out !== '0x' && out;
    });
    assert.equal(BigInt(v), 47n);
  }
  assert.equal(await rpc(m2.rpc, 'eth_getCode', [address, 'latest']), '0x');
  assert.equal(await rpc(m2.rpc, 'eth_call', [{ to: address, data: getData }, 'latest']), '0x');
  assert.equal(await rpc(m2.rpc, 'eth_getPrivateTransactionByHash', [pmtHash]), null);
  await assert.rejects(rpc(m2.rpc, 'eth_getPrivateTransactionReceipt', [pmtHash]),
    /private transaction not found for this participant/);
  await assert.rejects(rpc(m1.rpc, 'eth_getPrivateTransactionReceipt', ['0x' + '11'.repeat(32)]),
    /privacy marker transaction not found/);
  assert.equal(await rpc(m1.rpc, 'eth_getPrivateTransactionByHash', ['0x' + '11'.repeat(32)]), null);

  const readOn = async (m, want) => eventually(`${want} on ${m.rpc}`, async () => {
    const out = await rpc(m.rpc, 'eth_call', [{ to: address, data: getData }, 'latest']);
    return out !== '0x' && BigInt(out) === want;
  });
  // personal_sendTransaction makes a PMT too (the account's password from network_private.rs)
  const set5 = new w1.eth.Contract(SimpleStorage.abi).methods.set(5).encodeABI();
  const setPmt = await rpc(m1.rpc, 'personal_sendTransaction', [
    { from, to: address, data: set5, gas: '0x7a120', privateFor: [m3.key] }, 'member1',
  ]);
  const setReceipt = await eventually('the set PMT', () => rpc(m1.rpc, 'eth_getTransactionReceipt', [setPmt]));
  assert.equal(setReceipt.isPrivacyMarkerTransaction, true);
  await readOn(m1, 5n);
  await readOn(m3, 5n);

  // an externally signed PMT: eth_distributePrivateTransaction, then eth_sendRawTransaction
  const { ethers } = await import('ethers');
  const provider = new ethers.JsonRpcProvider(m1.rpc, undefined, { cacheTimeout: -1 });
  const wallet = new ethers.Wallet(devKey, provider);
  const set9 = new w1.eth.Contract(SimpleStorage.abi).methods.set(9).encodeABI();
  const res = await fetch(`${m1.tp}/storeraw`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payload: Buffer.from(set9.slice(2), 'hex').toString('base64'), from: m1.key }),
  });
  assert.equal(res.status, 200);
  const stored = '0x' + Buffer.from((await res.json()).key, 'base64').toString('hex');
  const nonce = await provider.getTransactionCount(wallet.address, 'pending');
  const innerTx = ethers.Transaction.from({ type: 0, nonce, gasPrice: 0, gasLimit: 500_000, to: address, data: stored, value: 0 });
  const sig = wallet.signingKey.sign(innerTx.unsignedHash);
  const fields = [
    ethers.toBeArray(nonce), '0x', ethers.toBeArray(500_000), address, '0x', stored,
    ethers.toBeArray(sig.v + 10), sig.r, sig.s,
  ].map((f) => (f instanceof Uint8Array ? ethers.hexlify(f) : f));
  const rawInner = ethers.encodeRlp(fields.map((f) => (f === '0x00' ? '0x' : f)));
  const distributed = await provider.send('eth_distributePrivateTransaction', [rawInner, { privateFor: [m3.key] }]);
  assert.match(distributed, /^0x[0-9a-f]{128}$/);
  const rawPmt = await wallet.signTransaction({
    type: 0, nonce, gasPrice: 0, gasLimit: 30_000, to: PRECOMPILE, data: distributed, value: 0, chainId,
  });
  const extHash = await provider.send('eth_sendRawTransaction', [rawPmt]);
  await provider.waitForTransaction(extHash, 1, 60_000);
  await readOn(m1, 9n);
  await readOn(m3, 9n);
  const extReceipt = await eventually('the external PMT inner receipt',
    () => rpc(m3.rpc, 'eth_getPrivateTransactionReceipt', [extHash]));
  assert.equal(extReceipt.transactionHash, extHash);
  assert.equal(extReceipt.to, address);
  assert.equal(extReceipt.logs.length, 1);
});
