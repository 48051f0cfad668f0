#!/usr/bin/env node
// Compiles contracts/sol/*.sol with solc-js (the version pinned in tests/js/package.json) and writes
// contracts/artifacts/<Name>.json = {abi, bytecode, deployedBytecode, evmVersion, solc}.
//
// Every contract is built with solc's DEFAULT evmVersion (as a user running `solc` without settings gets),
// and SimpleStorage is built a second time with evmVersion "london" as `SimpleStorageLondon`, for chains
// with GoQuorum's (pre-Shanghai) opcode set.
//
//   node scripts/compile-contracts.js           # (re)write the artifacts
//   node scripts/compile-contracts.js --check   # exit 1 if the committed artifacts are stale
//
// Needs `scripts/setup-js.sh` first (solc comes from tests/js/node_modules). Works offline.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const SOL_DIR = path.join(REPO_ROOT, 'contracts', 'sol');
const ARTIFACT_DIR = path.join(REPO_ROOT, 'contracts', 'artifacts');
const JS_DIR = path.join(REPO_ROOT, 'tests', 'js');

/** Extra builds: artifact name -> {source contract, evmVersion}. */
const VARIANTS = [{ artifact: 'SimpleStorageLondon', contract: 'SimpleStorage', evmVersion: 'london' }];

function loadSolc() {
  let resolved;
  try {
    resolved = require.resolve('solc', { paths: [JS_DIR] });
  } catch (e) {
    throw new Error(`solc-js is not installed in ${JS_DIR}/node_modules: run scripts/setup-js.sh first (${e.message})`);
  }
  return require(resolved);
}

function readSources() {
  const files = fs.readdirSync(SOL_DIR).filter((f) => f.endsWith('.sol')).sort();
  if (files.length === 0) throw new Error(`no .sol files in ${SOL_DIR}`);
  const sources = {};
  for (const f of files) sources[f] = { content: fs.readFileSync(path.join(SOL_DIR, f), 'utf8') };
  return sources;
}

function standardInput(sources, evmVersion) {
  const settings = {
    optimizer: { enabled: false, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'metadata', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  };
  if (evmVersion !== undefined) settings.evmVersion = evmVersion;
  return { language: 'Solidity', sources, settings };
}

function runSolc(solc, input) {
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage || e.message).join('\n')}`);
  }
  return output;
}

function toArtifact(contractOutput, solcVersion) {
  const metadata = JSON.parse(contractOutput.metadata);
  return {
    abi: contractOutput.abi,
    bytecode: `0x${contractOutput.evm.bytecode.object}`,
    deployedBytecode: `0x${contractOutput.evm.deployedBytecode.object}`,
    evmVersion: metadata.settings.evmVersion,
    solc: solcVersion,
  };
}

/** Compiles everything in memory. Returns a map artifact name -> serialized JSON text (as written to disk). */
function compileAll() {
  const solc = loadSolc();
  const solcVersion = solc.version();
  const sources = readSources();
  const artifacts = {};

  const defaultBuild = runSolc(solc, standardInput(sources, undefined));
  for (const [file, contracts] of Object.entries(defaultBuild.contracts)) {
    for (const [name, out] of Object.entries(contracts)) {
      if (artifacts[name] !== undefined) throw new Error(`contract name ${name} defined twice (${file})`);
      artifacts[name] = toArtifact(out, solcVersion);
    }
  }

  for (const v of VARIANTS) {
    const file = `${v.contract}.sol`;
    const build = runSolc(solc, standardInput({ [file]: sources[file] }, v.evmVersion));
    artifacts[v.artifact] = toArtifact(build.contracts[file][v.contract], solcVersion);
  }

  const texts = {};
  for (const name of Object.keys(artifacts).sort()) texts[name] = `${JSON.stringify(artifacts[name], null, 2)}\n`;
  return texts;
}

/** Lists differences between freshly compiled artifacts and the files in contracts/artifacts/. */
function staleArtifacts(texts) {
  const problems = [];
  const expected = new Set(Object.keys(texts).map((n) => `${n}.json`));
  for (const [name, text] of Object.entries(texts)) {
    const file = path.join(ARTIFACT_DIR, `${name}.json`);
    if (!fs.existsSync(file)) problems.push(`${name}.json is missing`);
    else if (fs.readFileSync(file, 'utf8') !== text) problems.push(`${name}.json differs from a fresh compile`);
  }
  if (fs.existsSync(ARTIFACT_DIR)) {
    for (const f of fs.readdirSync(ARTIFACT_DIR)) {
      if (f.endsWith('.json') && !expected.has(f)) problems.push(`${f} has no source contract`);
    }
  }
  return problems;
}

function writeArtifacts(texts) {
  fs.mkdirSync(ARTIFACT_DIR, { recursive: true });
  for (const [name, text] of Object.entries(texts)) fs.writeFileSync(path.join(ARTIFACT_DIR, `${name}.json`), text);
}

function main() {
  const texts = compileAll();
  if (process.argv.includes('--check')) {
    const problems = staleArtifacts(texts);
    if (problems.length > 0) {
      console.error(`contracts/artifacts is stale (run node scripts/compile-contracts.js):\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`contracts/artifacts is up to date (${Object.keys(texts).length} artifacts)`);
    return;
  }
  writeArtifacts(texts);
  console.log(`wrote ${Object.keys(texts).length} artifacts to ${path.relative(REPO_ROOT, ARTIFACT_DIR)}: ${Object.keys(texts).join(', ')}`);
}

module.exports = { compileAll, staleArtifacts, writeArtifacts, ARTIFACT_DIR, SOL_DIR };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
