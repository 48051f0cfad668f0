// ethers v6 against a multi-node network (QBFT or Raft): deploy through one node, use the contract
// through the others, and check that every node sees the same state. QRS_RPC_URLS lists the nodes'
// HTTP endpoints (comma separated); QRS_DEV_KEY is a funded key. No fee or transaction-type settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ethers } from 'ethers';
import helpers from './helpers.cjs';

const { artifact, sleep } = helpers;
const urls = (process.env.QRS_RPC_URLS || '').split(',').filter(Boolean);
const devKey = process.env.QRS_DEV_KEY;
const SimpleStorage = artifact('SimpleStorage');
const OPTS = { pollingInterval: 200, cacheTimeout: -1 };

async function eventually(what, fn, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

test('ethers v6 deploys and uses SimpleStorage through any node', { timeout: 120_000 }, async () => {
  assert.ok(urls.length >= 2, 'QRS_RPC_URLS must list at least two nodes');
  assert.ok(devKey, 'QRS_DEV_KEY must be set');
  const providers = urls.map((u) => new ethers.JsonRpcProvider(u, undefined, OPTS));

  // deploy through the first node
  const deployer = new ethers.Wallet(devKey, providers[0]);
  const factory = new ethers.ContractFactory(SimpleStorage.abi, SimpleStorage.bytecode, deployer);
  const contract = await factory.deploy(47);
  await contract.waitForDeployment();
  const address = await contract.getAddress();

  // every node reads 47
  for (const p of providers) {
    const c = new ethers.Contract(address, SimpleStorage.abi, p);
    await eventually('47 on every node', async () => (await c.get()) === 47n);
  }

  // set through each other node in turn; all nodes follow
  let value = 100n;
  for (let i = 1; i < providers.length; i++) {
    value += 1n;
    const signer = new ethers.Wallet(devKey, providers[i]);
    const c = new ethers.Contract(address, SimpleStorage.abi, signer);
    const tx = await c.set(value);
    const receipt = await tx.wait();
    assert.equal(receipt.status, 1);
    assert.equal(receipt.logs.length, 1, 'the set event is in the receipt');
    for (const p of providers) {
      const r = new ethers.Contract(address, SimpleStorage.abi, p);
      await eventually(`${value} on every node`, async () => (await r.get()) === value);
    }
  }

  // every node returns the same block for the latest common height
  const heights = await Promise.all(providers.map((p) => p.getBlockNumber()));
  const common = Math.min(...heights);
  const blocks = await Promise.all(providers.map((p) => p.getBlock(common)));
  for (const b of blocks) {
    assert.equal(b.hash, blocks[0].hash);
    assert.equal(b.stateRoot, blocks[0].stateRoot);
  }
  for (const p of providers) p.destroy();
});
