import type { UploadProgress } from '../interfaces/fit.interface';

/** At most this often (a few times a second); the first and the last report always go out. */
export const PROGRESS_INTERVAL_MS = 200;

/** A progress callback called at most every `PROGRESS_INTERVAL_MS` per phase, and always on completion. */
export function throttledProgress(
  onProgress: ((progress: UploadProgress) => void) | undefined,
  phase: UploadProgress['phase'],
): ((done: number, total: number) => void) | undefined {
  if (!onProgress) return undefined;
  let last = 0;
  let finished = false;
  return (done, total) => {
    const now = Date.now();
    const complete = done >= total;
    if (finished || (!complete && now - last < PROGRESS_INTERVAL_MS)) return;
    last = now;
    finished = complete;
    try {
      onProgress({ phase, done, total });
    } catch {
      // A failing progress callback is the caller's bug; it must not fail the upload.
    }
  };
}
