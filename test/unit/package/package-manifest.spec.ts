import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/paths';

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** `@scope/name` or `name` of every runtime import (type-only imports are erased and need no package). */
function importedPackages(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^import\s+(?!type\s)[^'"]*?from\s+'([^']+)'/gm),
    ...source.matchAll(/^import\s+'([^']+)'/gm),
    ...source.matchAll(/require\('([^']+)'\)/g),
    ...source.matchAll(/import\('([^']+)'\)/g),
    // Optional peers are loaded by name: loadOptionalPeer<...>('sharp', ...).
    ...source.matchAll(/OptionalPeer(?:<[^>]*>)?\(\s*'([^']+)'/g),
  ].map((match) => match[1]);
  return specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .filter((specifier) => !builtinModules.includes(specifier))
    .map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

describe('package manifest', () => {
  it('declares every package that lib/ imports as a dependency or peer dependency', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const undeclared: string[] = [];
    for (const file of sourceFiles(join(REPO_ROOT, 'lib'))) {
      for (const name of importedPackages(readFileSync(file, 'utf8'))) {
        if (!declared.has(name)) undeclared.push(`${relative(REPO_ROOT, file)} imports ${name}`);
      }
    }
    assert.deepEqual(undeclared, []);
  });

  it('declares nothing lib/ does not import, unless a reason is written here', () => {
    const notImported: Record<string, string> = {
      '@nestjs/platform-express':
        "the controller runs on the app's adapter; the range says which versions it serves",
      '@nestjs/platform-fastify':
        "the controller runs on the app's adapter; the range says which versions it serves",
      'reflect-metadata': "Nest's decorators need it loaded once by the app",
      ioredis:
        "the Redis stores take the app's own client; the range says which versions fit WeixinRedisClient",
    };
    const imported = new Set(
      sourceFiles(join(REPO_ROOT, 'lib')).flatMap((file) => importedPackages(readFileSync(file, 'utf8'))),
    );
    const declared = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ];
    const unused = declared.filter((name) => !imported.has(name) && !notImported[name]);
    assert.deepEqual(unused, []);
    for (const name of Object.keys(notImported)) assert.ok(declared.includes(name), `${name} is declared`);
  });

  it('says where the project lives and what it is about', () => {
    assert.match(manifest.repository.url, /^git\+https:\/\/github\.com\//);
    assert.match(manifest.homepage, /^https:\/\//);
    assert.match(manifest.bugs.url, /\/issues$/);
    assert.ok(manifest.keywords.includes('weixin') && manifest.keywords.includes('nestjs'));
  });

  it('keeps what the user application owns as peer dependencies, also installed for development', () => {
    for (const name of ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs']) {
      assert.ok(manifest.peerDependencies[name], `${name} is a peer dependency`);
      assert.ok(manifest.devDependencies[name], `${name} is a dev dependency`);
      assert.equal(manifest.dependencies?.[name], undefined, `${name} is not a direct dependency`);
    }
    assert.match(manifest.peerDependencies['@nestjs/common'], /\^11.*\^12/);
    assert.equal(manifest.peerDependenciesMeta.ioredis.optional, true);
    // Options come from the environment without it; the module loads it only when it is installed.
    assert.equal(manifest.peerDependenciesMeta['@nestjs/config'].optional, true);
  });

  it('ships a LICENSE that says what package.json says, a CHANGELOG and the fake server command', () => {
    assert.equal(manifest.license, 'MIT');
    assert.match(
      readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8'),
      /^MIT License\n\nCopyright \(c\) \d{4} nestjs-weixin-media contributors/,
    );
    assert.match(
      readFileSync(join(REPO_ROOT, 'CHANGELOG.md'), 'utf8'),
      new RegExp(`## \\[${manifest.version.replace(/\./g, '\\.')}\\]`),
    );
    assert.ok(manifest.files.includes('CHANGELOG.md'));
    assert.equal(manifest.bin['weixin-fake-server'], 'dist/testing/fake-weixin-server.cli.js');
    const cli = readFileSync(join(REPO_ROOT, 'lib/testing/fake-weixin-server.cli.ts'), 'utf8');
    assert.ok(cli.startsWith('#!/usr/bin/env node\n'), 'the bin starts with a shebang');
  });

  it('maps both entry points to CommonJS builds with types', () => {
    assert.equal(manifest.exports['.'].default, './dist/index.js');
    assert.equal(manifest.exports['./testing'].default, './dist/testing/index.js');
    assert.equal(manifest.main, 'dist/index.js');
    assert.equal(manifest.types, 'dist/index.d.ts');
  });

  it('states in the README the Node and Nest versions package.json says, and runs on that Node', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const minimum = /^>=(\d+)\.(\d+)\.\d+$/.exec(manifest.engines.node);
    assert.ok(minimum, `engines.node is a plain minimum: ${manifest.engines.node}`);
    const [major, minor] = [Number(minimum[1]), Number(minimum[2])];
    assert.match(readme, new RegExp(`\\| Node\\.js \\| ${major}\\.${minor} or later \\(\`engines\``));
    const [runningMajor, runningMinor] = process.versions.node.split('.').map(Number);
    assert.ok(
      runningMajor > major || (runningMajor === major && runningMinor >= minor),
      `Node ${process.versions.node} is at least the stated ${major}.${minor}`,
    );
    const nestMajors = [...manifest.peerDependencies['@nestjs/core'].matchAll(/\^(\d+)/g)].map((m) => m[1]);
    assert.match(readme, new RegExp(`\\| NestJS \\| ${nestMajors.join(' and ')} \\(peer ranges\\)`));
    const testedNest = JSON.parse(
      readFileSync(join(REPO_ROOT, 'node_modules/@nestjs/core/package.json'), 'utf8'),
    );
    assert.match(readme, new RegExp(`\\(peer ranges\\) \\| ${testedNest.version.split('.')[0]} \\|`));
  });
});
