import { join, resolve } from 'node:path';

/** The repository root, found from the compiled test (three folders up from `test/support` in the build output). */
export const REPO_ROOT = resolve(__dirname, '../../..');
export const MEDIA_FIXTURES_DIR = join(REPO_ROOT, 'test/fixtures/media');

export function mediaFixture(name: string): string {
  return join(MEDIA_FIXTURES_DIR, name);
}
