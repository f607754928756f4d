import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The parts of lib/ (a folder, or a root file on its own) from the top of the stack to the bottom
 * (STYLE.md: module → service → Weixin API client → tokens → transport → errors and interfaces).
 * A part may import parts on its own row or below it, never above. A new part joins a row here.
 */
const LAYERS: string[][] = [
  ['index.ts'],
  ['weixin-media.module.ts'],
  ['weixin-media.module-definition.ts', 'weixin-media-options.resolver.ts'],
  ['controller', 'health', 'callback'],
  ['validation', 'messages'],
  ['temporary-media.service.ts'],
  ['operations', 'media-download.ts', 'media-upload'],
  ['accounts'],
  ['tokens', 'store-circuit'],
  ['weixin-api'],
  ['media-source', 'media-cache', 'fit'],
  ['media-rules'],
  ['weixin-media.constants.ts', 'redis', 'telemetry'],
  ['errors', 'interfaces'],
  ['common'],
];

/** What a part may import besides lib/ parts: `media-rules` knows no framework and no network. */
const EXTERNAL_RULES: Record<string, RegExp> = {
  'media-rules': /^node:/,
  errors: /^node:/,
};

const LIB = resolve(__dirname, '../../../../lib');

interface ImportEdge {
  file: string;
  from: string;
  to: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The part a file or an import target belongs to: its folder under lib/, or the root file itself. */
function partOf(path: string): string {
  const [first, ...rest] = relative(LIB, path).split(sep);
  if (rest.length > 0 || (existsSync(join(LIB, first)) && statSync(join(LIB, first)).isDirectory())) {
    return first;
  }
  return first.endsWith('.ts') ? first : `${first}.ts`;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const pattern =
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(pattern)].map((match) => match[1] ?? match[2]);
}

function importGraph(): {
  edges: ImportEdge[];
  externals: Array<{ part: string; file: string; specifier: string }>;
} {
  const edges: ImportEdge[] = [];
  const externals: Array<{ part: string; file: string; specifier: string }> = [];
  for (const file of sourceFiles(LIB)) {
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) {
        externals.push({ part: partOf(file), file: relative(LIB, file), specifier });
        continue;
      }
      const to = partOf(resolve(dirname(file), specifier));
      const from = partOf(file);
      if (from !== to) edges.push({ file: relative(LIB, file), from, to, specifier });
    }
  }
  return { edges, externals };
}

function rowOf(part: string): number {
  return LAYERS.findIndex((row) => row.includes(part));
}

describe('the import graph of lib/', () => {
  const { edges, externals } = importGraph();
  const parts = new Set(sourceFiles(LIB).map(partOf));

  it('places every part of lib/ on a layer', () => {
    const unplaced = [...parts].filter((part) => part !== 'testing' && rowOf(part) === -1);
    assert.deepEqual(unplaced, [], 'add these parts to LAYERS in test/unit/package/import-graph.spec.ts');
  });

  it('has no arrow pointing up the stack', () => {
    const upward = edges
      .filter((edge) => edge.from !== 'testing' && edge.to !== 'testing')
      .filter((edge) => rowOf(edge.to) < rowOf(edge.from))
      .map((edge) => `${edge.file} imports ${edge.specifier} (${edge.from} → ${edge.to})`);
    assert.deepEqual(upward, []);
  });

  it('never imports testing/ from the product', () => {
    const intoTesting = edges
      .filter((edge) => edge.to === 'testing' && edge.from !== 'testing')
      .map((edge) => `${edge.file} imports ${edge.specifier}`);
    assert.deepEqual(intoTesting, []);
  });

  it('has no circle between parts', () => {
    const next = new Map<string, Set<string>>();
    for (const edge of edges) {
      if (!next.has(edge.from)) next.set(edge.from, new Set());
      next.get(edge.from)!.add(edge.to);
    }
    const circles: string[] = [];
    const visit = (part: string, path: string[]): void => {
      for (const to of next.get(part) ?? []) {
        if (to === path[0]) circles.push([...path, to].join(' → '));
        else if (!path.includes(to) && to > path[0]) visit(to, [...path, to]);
      }
    };
    for (const part of parts) visit(part, [part]);
    assert.deepEqual(circles, []);
  });

  it('keeps media-rules/ and errors/ free of frameworks and the network', () => {
    const foreign = externals
      .filter(({ part }) => EXTERNAL_RULES[part] !== undefined)
      .filter(({ part, specifier }) => !EXTERNAL_RULES[part].test(specifier))
      .map(({ file, specifier }) => `${file} imports ${specifier}`);
    assert.deepEqual(foreign, []);
  });

  it('can tell an upward arrow from a downward one', () => {
    assert.ok(rowOf('tokens') > rowOf('media-upload.ts'));
    assert.ok(rowOf('weixin-api') > rowOf('tokens'));
    assert.ok(rowOf('errors') > rowOf('media-rules'));
  });
});
