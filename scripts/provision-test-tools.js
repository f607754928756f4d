#!/usr/bin/env node
'use strict';
/**
 * Run by `npm test` before it compiles anything: makes sure the programs in test/system-packages are there.
 * As root with apt-get it installs the missing ones (one line says which); elsewhere it stops at once with one
 * message naming what is missing and the exact command, so a fresh machine never fails deep in a test log.
 * Plain CommonJS with no dependencies: it runs before the TypeScript build and before anything else is known
 * to work.
 */
const { spawnSync } = require('node:child_process');
const { accessSync, constants, readFileSync } = require('node:fs');
const { delimiter, isAbsolute, join } = require('node:path');

const LIST = join(__dirname, '..', 'test', 'system-packages');

/** @returns {{ command: string, pkg: string, variable?: string }[]} */
function readToolList(file = LIST) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const [command, pkg, variable] = line.split(/\s+/);
      return { command, pkg, variable };
    });
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(command, env) {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .find(isExecutable);
}

/** What is missing, and what is wrong with a variable that was set to replace a tool. */
function checkTools(tools, env) {
  const missing = [];
  const problems = [];
  for (const tool of tools) {
    const value = tool.variable && env[tool.variable];
    if (value) {
      // A variable holding a path (CHROMIUM_PATH) must name a program; a URL (REDIS_URL) is the tests' to reach.
      if (isAbsolute(value) && !isExecutable(value)) {
        problems.push(`${tool.variable}=${value} is not an executable file`);
      }
      continue;
    }
    if (!findOnPath(tool.command, env)) missing.push(tool);
  }
  return { missing, problems };
}

function packagesOf(tools) {
  return [...new Set(tools.map((tool) => tool.pkg))];
}

function installCommand(tools, asRoot) {
  const sudo = asRoot ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packagesOf(tools).join(' ')}`;
}

function missingMessage(missing, problems, asRoot) {
  const lines = [];
  if (missing.length > 0) {
    const names = missing.map((tool) => `${tool.command} (Debian package ${tool.pkg})`).join(', ');
    lines.push(`npm test needs programs that are not installed: ${names}.`);
    lines.push(`Install them (Debian/Ubuntu): ${installCommand(missing, asRoot)}`);
    const variables = missing.filter((tool) => tool.variable).map((tool) => tool.variable);
    if (variables.length > 0) {
      lines.push(`Or use what you have: ${variables.map(example).join(', ')} (see CONTRIBUTING.md).`);
    }
  }
  lines.push(...problems, 'Nothing was compiled or run.');
  return lines.join('\n');
}

function example(variable) {
  if (variable === 'REDIS_URL') return 'REDIS_URL=redis://127.0.0.1:6379/15 (a database the tests may flush)';
  if (variable === 'CHROMIUM_PATH') return 'CHROMIUM_PATH=/path/to/chromium';
  return `${variable}=...`;
}

/** Runs apt-get quietly; its output is shown only when it fails. */
function aptGet(args, env) {
  const result = spawnSync('apt-get', args, {
    env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(
      `apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${output}`,
    );
  }
}

/** @returns {number} the exit code */
function provision({
  env = process.env,
  asRoot = process.getuid?.() === 0,
  log = console.log,
  fail = console.error,
} = {}) {
  const tools = readToolList();
  const { missing, problems } = checkTools(tools, env);
  if (missing.length === 0 && problems.length === 0) return 0;

  if (problems.length > 0 || !asRoot || !findOnPath('apt-get', env)) {
    fail(missingMessage(missing, problems, asRoot));
    return 1;
  }

  log(
    `provision: installing ${packagesOf(missing).join(' ')} with apt-get (missing: ${missing.map((t) => t.command).join(', ')})`,
  );
  try {
    aptGet(['update', '-qq'], env);
    aptGet(['install', '-y', '-qq', '--no-install-recommends', ...packagesOf(missing)], env);
  } catch (error) {
    fail(`${error.message}\n${missingMessage(missing, [], asRoot)}`);
    return 1;
  }
  const still = checkTools(tools, env).missing;
  if (still.length > 0) {
    fail(
      `apt-get installed the packages, but these are still not on PATH: ${still.map((t) => t.command).join(', ')}`,
    );
    return 1;
  }
  return 0;
}

module.exports = { readToolList, checkTools, provision };

if (require.main === module) process.exitCode = provision();
