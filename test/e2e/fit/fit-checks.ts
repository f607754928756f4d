import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { FittedMedia, MediaType } from '../../../lib';
import { MEDIA_RULES } from '../../../lib';
import { inspectMediaContent } from '../../../lib/media-rules/inspect-media';
import { bufferContent } from '../../../lib/media-rules/media-content';
import { ffprobe, type FitMediaDir, type Probed } from '../../support/fit-media';

/**
 * Checks a fit's output twice: by the project's rules, and independently by ffprobe against the source:
 * duration within 3 %, the codecs, aspect ratio within 1 %, size within the limit.
 */
export async function checkFitted(
  type: MediaType,
  fitted: FittedMedia,
  source: string,
  media: FitMediaDir,
  expected: { durationSeconds?: number } = {},
): Promise<{ source: Probed; output: Probed }> {
  assert.equal(fitted.converted, true, 'the source was converted');
  const inspection = await inspectMediaContent(type, bufferContent(fitted.data));
  assert.equal(inspection.format, fitted.format);
  assert.ok(
    fitted.data.length <= MEDIA_RULES[type].maxBytes,
    `${fitted.data.length} bytes is within the limit`,
  );
  const outputPath = media.path(`out-${Math.random().toString(36).slice(2)}`);
  writeFileSync(outputPath, fitted.data);
  const [before, after] = await Promise.all([ffprobe(source), ffprobe(outputPath)]);
  const wanted = expected.durationSeconds ?? before.durationSeconds;
  if (type === 'voice' || type === 'video') {
    assert.ok(
      Math.abs(after.durationSeconds - wanted) <= wanted * 0.03,
      `duration ${after.durationSeconds} s is within 3 % of ${wanted} s`,
    );
  }
  if (type === 'voice') {
    assert.equal(after.formatName, 'mp3');
    assert.equal(after.audio?.codec, 'mp3');
    assert.equal(after.audio?.channels, 1, 'mono');
    assert.ok((after.audio?.bitRate ?? 0) <= 128_000, `bitrate ${after.audio?.bitRate} ≤ 128 kbps`);
    assert.equal(after.video, undefined);
  }
  if (type === 'video') {
    assert.match(after.formatName, /mp4/);
    assert.equal(after.video?.codec, 'h264');
    assert.equal(after.video?.pixFmt, 'yuv420p');
    assert.ok(after.video!.width <= 1280, `width ${after.video!.width} ≤ 1280`);
    if (before.audio) assert.equal(after.audio?.codec, 'aac');
    assertAspect(before, after);
  }
  if (type === 'image' || type === 'thumb') {
    assert.ok(['png_pipe', 'jpeg_pipe', 'image2'].includes(after.formatName), after.formatName);
    assert.equal(after.video?.codec, fitted.format === 'png' ? 'png' : 'mjpeg');
    assertAspect(before, after);
  }
  return { source: before, output: after };
}

export function assertAspect(before: Probed, after: Probed): void {
  const ratio = (probed: Probed) => probed.video!.width / probed.video!.height;
  const drift = Math.abs(ratio(after) / ratio(before) - 1);
  assert.ok(
    drift <= 0.01,
    `aspect ratio ${ratio(after).toFixed(4)} is within 1 % of ${ratio(before).toFixed(4)}`,
  );
}
