import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appTsconfig, installApp, packPackage, REQUIRED_PEERS, run, TSC } from '../../support/packed-app';
import { REPO_ROOT } from '../../support/paths';

/** The optional peers and types the snippets use, at this repository's versions. */
const SNIPPET_PACKAGES = [
  ...REQUIRED_PEERS,
  '@nestjs/config',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  '@nestjs/terminus',
  '@nestjs/testing',
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/sdk-trace-base',
  '@types/express',
  '@types/multer',
  'class-transformer',
  'class-validator',
  'ioredis',
];

/** A plain CommonJS Nest app, strict, skipLibCheck false: what a user pastes the snippets into. */
const APP_TSCONFIG = appTsconfig({ noEmit: true });

const README_MAX_LINES = 450;

interface Snippet {
  doc: string;
  /** The line of the snippet's first code line in its document (1-based). */
  line: number;
  code: string;
  /** Where it is written in the app: `src/<doc folder>/<file>`. */
  file: string;
}

const docs = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Every ```ts block; a block that opens with `// name.ts` is that file, so the snippets beside it import it. */
function snippetsOf(doc: string): Snippet[] {
  const lines = readFileSync(join(REPO_ROOT, doc), 'utf8').split('\n');
  const folder = doc
    .replace(/\.md$/, '')
    .replace(/[^\w]+/g, '-')
    .toLowerCase();
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `${doc}:${i + 1}: a ts block that never closes`);
    const code = lines.slice(i + 1, end).join('\n') + '\n';
    const named = /^\/\/ ([\w.-]+\.ts)\b/.exec(lines[i + 1]);
    snippets.push({
      doc,
      line: i + 2,
      code,
      file: `src/${folder}/${named ? named[1] : `snippet-${i + 2}.ts`}`,
    });
    i = end;
  }
  return snippets;
}

/** GitHub's anchor for a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function headingsOf(doc: string): string[] {
  const text = readFileSync(join(REPO_ROOT, doc), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return [...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1]);
}

describe('the README and docs/', () => {
  let work: string;
  let app: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'docs-snippets-'));
    app = join(work, 'app');
    installApp(app, packPackage(work), APP_TSCONFIG, SNIPPET_PACKAGES);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('has ts snippets that each compile as a file of a strict app against the packed package', () => {
    const snippets = docs.flatMap(snippetsOf);
    const byFile = new Map<string, Snippet>();
    for (const snippet of snippets) {
      const twin = byFile.get(snippet.file);
      assert.equal(
        twin,
        undefined,
        `${snippet.doc}:${snippet.line} and line ${twin?.line} both name ${snippet.file}`,
      );
      byFile.set(snippet.file, snippet);
      mkdirSync(dirname(join(app, snippet.file)), { recursive: true });
      writeFileSync(join(app, snippet.file), snippet.code);
    }
    assert.ok(snippets.length > 0);

    let output = '';
    try {
      run(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], app);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    const problems = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const match = /^(src\/[^(]+)\((\d+),\d+\): (.*)$/.exec(line);
        const snippet = match && byFile.get(match[1]);
        if (!snippet) return line;
        const firstLine = snippet.code.split('\n')[0];
        return `${snippet.doc}:${snippet.line + Number(match[2]) - 1} (snippet from line ${snippet.line}, "${firstLine}"): ${match[3]}`;
      });
    assert.deepEqual(problems, [], `snippets that do not compile:\n${problems.join('\n')}`);
  });

  it(`keeps the README to ${README_MAX_LINES} lines with a table of contents of its sections`, () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const lines = readme.trimEnd().split('\n').length;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
    const contents = /^## Contents\n([\s\S]*?)\n## /m.exec(readme);
    assert.ok(contents, 'README.md has a "## Contents" section');
    const sections = [...readme.matchAll(/^## (.+)$/gm)]
      .map((match) => match[1])
      .filter((h) => h !== 'Contents');
    for (const section of sections) assert.ok(contents[1].includes(`](#${anchorOf(section)})`), section);
  });

  it('links only to files that exist and headings that exist', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        const linked = path === '' ? doc : join(dirname(doc), path);
        if (!existsSync(join(REPO_ROOT, linked))) broken.push(`${doc}: ${target}`);
        else if (anchor !== undefined && !headingsOf(linked).map(anchorOf).includes(anchor)) {
          broken.push(`${doc}: ${target}`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});
