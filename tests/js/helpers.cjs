// Shared by every client test file: the node endpoints and dev key from the environment (set by
// run-against-dev-node.sh), the committed contract artifacts, and small async helpers.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ARTIFACT_DIR = path.join(__dirname, '..', '..', 'contracts', 'artifacts');

/** The funded, node-unlocked dev account (`qnode --dev`). */
const DEV_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const CHAIN_ID = 1337;

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run these tests through tests/js/run-against-dev-node.sh, or export QRS_HTTP_URL, QRS_WS_URL and QRS_DEV_KEY for a running qnode --dev`,
    );
  }
  return value;
}

/** Reads QRS_HTTP_URL, QRS_WS_URL, QRS_DEV_KEY; throws when any is missing. */
function nodeEnv() {
  const devKey = required('QRS_DEV_KEY');
  return {
    httpUrl: required('QRS_HTTP_URL'),
    wsUrl: required('QRS_WS_URL'),
    devKey: devKey.startsWith('0x') ? devKey : `0x${devKey}`,
  };
}

/** A committed artifact: {abi, bytecode, deployedBytecode, evmVersion, solc}. */
function artifact(name) {
  return JSON.parse(fs.readFileSync(path.join(ARTIFACT_DIR, `${name}.json`), 'utf8'));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects after `ms` with a message naming what was awaited. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Collects values pushed by an event listener; `waitFor(pred)` resolves with the first (past or future)
 * value matching `pred`.
 */
class Collector {
  constructor() {
    this.values = [];
    this.waiters = [];
  }

  push = (value) => {
    this.values.push(value);
    this.waiters = this.waiters.filter(({ pred, resolve }) => {
      if (!pred(value)) return true;
      resolve(value);
      return false;
    });
  };

  waitFor(pred, ms, what) {
    const hit = this.values.find(pred);
    if (hit !== undefined) return Promise.resolve(hit);
    return within(ms, what, new Promise((resolve) => this.waiters.push({ pred, resolve })));
  }
}

module.exports = { DEV_ADDRESS, CHAIN_ID, nodeEnv, artifact, sleep, within, Collector };
