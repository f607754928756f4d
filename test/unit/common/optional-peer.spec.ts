import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const LOADER = join(__dirname, '../../../lib/common/optional-peer');

/**
 * Real packages on disk, found through NODE_PATH by a fresh Node process: one that loads (and counts its
 * loads), one installed but broken (it requires a dependency that is not there).
 */
describe('loadOptionalPeer', () => {
  let modules: string;

  before(() => {
    modules = mkdtempSync(join(tmpdir(), 'optional-peers-'));
    const writePackage = (name: string, main: string) => {
      mkdirSync(join(modules, name));
      writeFileSync(join(modules, name, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
      writeFileSync(join(modules, name, 'index.js'), main);
    };
    writePackage(
      'weixin-test-peer',
      'globalThis.peerLoads = (globalThis.peerLoads ?? 0) + 1; module.exports = { answer: 42 };',
    );
    writePackage('weixin-test-broken-peer', "require('weixin-test-peer-dependency-not-installed');");
  });

  after(() => rmSync(modules, { recursive: true, force: true }));

  /** Runs `script` with the loader as `peers` in a fresh process; answers its JSON output. */
  function run(script: string): any {
    const result = spawnSync(
      process.execPath,
      ['-e', `const peers = require(${JSON.stringify(LOADER)}); ${script}`],
      { env: { ...process.env, NODE_PATH: modules }, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  }

  /** The error message `call` throws, or 'no error'. */
  const THROWN = `(call) => { try { call(); return 'no error'; } catch (error) { return error.message; } }`;

  it('answers an installed peer, loaded once however often it is asked for', () => {
    const answer = run(`
      const first = peers.loadOptionalPeer('weixin-test-peer', 'a test');
      const second = peers.requireOptionalPeer('weixin-test-peer', 'a test');
      console.log(JSON.stringify({ answer: first.answer, same: first === second, loads: globalThis.peerLoads }));`);
    assert.deepEqual(answer, { answer: 42, same: true, loads: 1 });
  });

  it('answers undefined for a peer that is not installed, or the error naming what needs it', () => {
    const answer = run(`
      const thrown = ${THROWN};
      console.log(JSON.stringify({
        loaded: peers.loadOptionalPeer('weixin-test-peer-not-installed', 'a test') ?? 'undefined',
        required: thrown(() => peers.requireOptionalPeer('weixin-test-peer-not-installed', 'Reports')),
        withHint: thrown(() => peers.requireOptionalPeer('weixin-test-peer-not-installed', 'Reports', 'npm i it, then import ItModule')),
      }));`);
    assert.deepEqual(answer, {
      loaded: 'undefined',
      required: 'Reports needs weixin-test-peer-not-installed: npm install weixin-test-peer-not-installed',
      withHint: 'Reports needs weixin-test-peer-not-installed: npm i it, then import ItModule',
    });
  });

  it('tells a broken install from a missing peer: its error names the peer, what needs it and the cause', () => {
    const answer = run(`
      const thrown = ${THROWN};
      console.log(JSON.stringify([
        thrown(() => peers.loadOptionalPeer('weixin-test-broken-peer', 'fitting images')),
        thrown(() => peers.requireOptionalPeer('weixin-test-broken-peer', 'fitting images')),
      ]));`);
    for (const message of answer) {
      assert.match(
        message,
        /^weixin-test-broken-peer is installed but does not load \(Cannot find module 'weixin-test-peer-dependency-not-installed'\); fitting images needs it: reinstall it/,
      );
    }
  });
});
