import assert from 'node:assert/strict';
import { MediaValidationError } from '../../lib/errors/media-validation.error';
import type { MediaInspection, MediaType } from '../../lib/interfaces/media.interface';
import { inspectMediaContent } from '../../lib/media-rules/inspect-media';
import type { MediaContent } from '../../lib/media-rules/media-content';

/** What inspecting a file as one type gives, in the manifests' words: `ok:FORMAT` or the reason. */
export interface MediaOutcome {
  outcome: string;
  result?: MediaInspection;
  error?: MediaValidationError;
}

/** Inspects `content` as `type`; anything thrown but a `MediaValidationError` fails the test. */
export async function mediaOutcome(type: MediaType, content: MediaContent): Promise<MediaOutcome> {
  try {
    const result = await inspectMediaContent(type, content);
    return { outcome: `ok:${result.format}`, result };
  } catch (error) {
    assert.ok(error instanceof MediaValidationError, `expected a MediaValidationError, got ${String(error)}`);
    return { outcome: error.reason, error };
  }
}
