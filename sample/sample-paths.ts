import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root: the nearest folder above this file with a `package.json`. Walking up works from
 * the sources and from any compiled copy (`.build/sample/`, `.build-sample/sample/`, any subfolder).
 */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no package.json above ${from}: run the sample from the repository`);
  }
}

export const SAMPLE_DIR = join(findRepoRoot(__dirname), 'sample');
/** The files the message handlers upload: `welcome.jpg`, `welcome.amr`, `welcome.mp4`. */
export const SAMPLE_ASSETS_DIR = join(SAMPLE_DIR, 'assets');
/** The upload page, served as it is (no build step). */
export const SAMPLE_PUBLIC_DIR = join(SAMPLE_DIR, 'public');
