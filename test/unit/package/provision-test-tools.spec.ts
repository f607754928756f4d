import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/paths';

const SCRIPT = join(REPO_ROOT, 'scripts/provision-test-tools.js');
const IS_ROOT = process.getuid?.() === 0;

/** test/system-packages as the script reads it: command, package, optional variable. */
const TOOLS = readFileSync(join(REPO_ROOT, 'test/system-packages'), 'utf8')
  .split('\n')
  .map((line) => line.replace(/#.*/, '').trim())
  .filter(Boolean)
  .map((line) => {
    const [command, pkg, variable] = line.split(/\s+/);
    return { command, pkg, variable };
  });

/** The script with PATH narrowed to `dir` (a fresh machine: none of the tools), never the real apt-get. */
function provision(dir: string, env: Record<string, string> = {}) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [SCRIPT], {
    env: { PATH: dir, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { ...result, ms: Date.now() - started };
}

function executable(path: string, body = '#!/bin/sh\nexit 0\n'): void {
  writeFileSync(path, body);
  chmodSync(path, 0o755);
}

describe('npm test provisioning (scripts/provision-test-tools.js)', () => {
  let bin: string;
  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'provision-'));
  });
  after(() => rmSync(bin, { recursive: true, force: true }));

  it('lists redis-server, redis-cli, chromium and ffmpeg with their Debian packages', () => {
    const byCommand = new Map(TOOLS.map((tool) => [tool.command, tool]));
    assert.equal(byCommand.get('redis-server')?.pkg, 'redis-server');
    assert.equal(byCommand.get('redis-server')?.variable, 'REDIS_URL');
    assert.equal(byCommand.get('redis-cli')?.pkg, 'redis-tools');
    assert.equal(byCommand.get('chromium')?.variable, 'CHROMIUM_PATH');
    assert.equal(byCommand.get('ffmpeg')?.pkg, 'ffmpeg');
  });

  it('on a machine without the tools and without apt-get, stops at once naming them and the command', () => {
    const result = provision(bin);
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.ms < 5_000, `stopped after ${result.ms} ms`);
    const packages = [...new Set(TOOLS.map((tool) => tool.pkg))].join(' ');
    assert.ok(
      result.stderr.includes(`apt-get install -y --no-install-recommends ${packages}`),
      `the exact command in: ${result.stderr}`,
    );
    for (const tool of TOOLS) assert.ok(result.stderr.includes(tool.command), `${tool.command} is named`);
    assert.match(result.stderr, /REDIS_URL=redis:\/\//);
    assert.match(result.stderr, /CHROMIUM_PATH=/);
    assert.equal(result.stdout, '');
  });

  it('asks only for what is missing, and a variable replaces its tool', () => {
    const dir = mkdtempSync(join(bin, 'partial-'));
    executable(join(dir, 'ffmpeg'));
    executable(join(dir, 'redis-cli'));
    executable(join(dir, 'chromium-elsewhere'));
    const result = provision(dir, { CHROMIUM_PATH: join(dir, 'chromium-elsewhere') });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /not installed: redis-server \(Debian package redis-server\)\./);
    assert.match(result.stderr, /--no-install-recommends redis-server$/m);

    const satisfied = provision(dir, {
      CHROMIUM_PATH: join(dir, 'chromium-elsewhere'),
      REDIS_URL: 'redis://127.0.0.1:6379/15',
    });
    assert.equal(satisfied.status, 0, satisfied.stderr);
    assert.equal(satisfied.stdout + satisfied.stderr, '', 'silent when everything is there');
  });

  it('refuses a CHROMIUM_PATH that is not a program', () => {
    const dir = mkdtempSync(join(bin, 'bad-path-'));
    for (const tool of TOOLS) executable(join(dir, tool.command));
    const result = provision(dir, { CHROMIUM_PATH: join(dir, 'no-such-chromium') });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /CHROMIUM_PATH=.*no-such-chromium is not an executable file/);
  });

  it(
    IS_ROOT
      ? 'as root with apt-get, installs what is missing and says so in one line'
      : 'without root, names the sudo command even where apt-get exists',
    () => {
      const dir = mkdtempSync(join(bin, 'apt-'));
      const calls = join(dir, 'apt-get.calls');
      // A stand-in apt-get: records its arguments, and "installs" a package by creating its commands.
      const installs = TOOLS.map(
        (tool) =>
          `    ${tool.pkg}) printf '#!/bin/sh\\n' > "${dir}/${tool.command}"; /bin/chmod 755 "${dir}/${tool.command}" ;;`,
      );
      executable(
        join(dir, 'apt-get'),
        [
          '#!/bin/sh',
          `echo "$DEBIAN_FRONTEND $*" >> "${calls}"`,
          'for arg in "$@"; do',
          '  case "$arg" in',
          ...installs,
          '  esac',
          'done',
          'echo "apt output that is not shown"',
        ].join('\n') + '\n',
      );
      const result = provision(dir);
      const packages = [...new Set(TOOLS.map((tool) => tool.pkg))];
      if (IS_ROOT) {
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout.trim().split('\n').length, 1, result.stdout);
        assert.match(result.stdout, new RegExp(`^provision: installing ${packages.join(' ')} with apt-get`));
        assert.doesNotMatch(result.stdout, /apt output/);
        assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
          'noninteractive update -qq',
          `noninteractive install -y -qq --no-install-recommends ${packages.join(' ')}`,
        ]);
        assert.equal(provision(dir).stdout, '', 'nothing left to install the second time');
      } else {
        assert.equal(result.status, 1);
        assert.ok(
          result.stderr.includes(`sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`),
        );
        assert.throws(() => readFileSync(calls), /ENOENT/, 'apt-get was never run');
      }
    },
  );

  it('reports a failing apt-get with the end of its output and the command to run instead', () => {
    const dir = mkdtempSync(join(bin, 'apt-fails-'));
    executable(
      join(dir, 'apt-get'),
      '#!/bin/sh\necho "E: Unable to locate package chromium" >&2\nexit 100\n',
    );
    const result = provision(dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /apt-get install -y --no-install-recommends redis-server/);
    if (IS_ROOT)
      assert.match(result.stderr, /apt-get update -qq failed \(exit 100\):\nE: Unable to locate package/);
  });
});
