// The committed contracts/artifacts/*.json are exactly what solc-js (the version pinned in package.json)
// produces from contracts/sol/*.sol today. Regenerate with: node scripts/compile-contracts.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const compiler = require('../../scripts/compile-contracts.js');
const solc = require('solc');
const pkg = require('./package.json');

test('committed artifacts match a fresh solc-js compile', () => {
  const fresh = compiler.compileAll();
  assert.deepEqual(compiler.staleArtifacts(fresh), [], 'run: node scripts/compile-contracts.js');
  assert.deepEqual(Object.keys(fresh).sort(), ['Modern', 'QrsToken', 'Reverter', 'SimpleStorage', 'SimpleStorageLondon']);
});

test('artifacts were built by the pinned solc with the expected EVM targets', () => {
  assert.ok(solc.version().startsWith(`${pkg.dependencies.solc}+`), `solc ${solc.version()} vs pin ${pkg.dependencies.solc}`);
  const read = (n) => JSON.parse(fs.readFileSync(path.join(compiler.ARTIFACT_DIR, `${n}.json`), 'utf8'));
  for (const name of ['Modern', 'QrsToken', 'Reverter', 'SimpleStorage']) {
    const a = read(name);
    assert.equal(a.solc, solc.version(), name);
    assert.notEqual(a.evmVersion, 'london', `${name} uses solc's default target`);
    assert.match(a.bytecode, /^0x[0-9a-f]+$/, name);
    assert.match(a.deployedBytecode, /^0x[0-9a-f]+$/, name);
    assert.ok(a.abi.length > 0, name);
  }
  assert.equal(read('SimpleStorageLondon').evmVersion, 'london');
});

test('staleness check notices an edited artifact', () => {
  const fresh = compiler.compileAll();
  const tampered = { ...fresh, SimpleStorage: fresh.SimpleStorage.replace('"storedData"', '"storedDatum"') };
  assert.deepEqual(compiler.staleArtifacts(tampered), ['SimpleStorage.json differs from a fresh compile']);
});
