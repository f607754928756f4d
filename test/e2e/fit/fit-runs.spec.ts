import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import type { MediaType } from '../../../lib';
import { MediaFitter } from '../../../lib/fit/media-fitter';
import { bufferContent } from '../../../lib/media-rules/media-content';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { childProcesses, FitMediaDir, isAlive, RecordedFfmpeg } from '../../support/fit-media';

describe('fit: ffmpeg runs take turns of fit.concurrency, and an aborted fit rejects', () => {
  const weixin = fakeWeixinPerTest();
  const media = new FitMediaDir();

  after(() => media.close());

  const picture = (name: string, codec: string[] = []) =>
    media.ffmpeg(name, ['-f', 'lavfi', '-i', 'testsrc2=size=640x360', '-frames:v', '1', ...codec]);

  it('with concurrency 1, eight fits run one ffmpeg at a time: H.264 checks, conversions, voice', async () => {
    const ffmpeg = new RecordedFfmpeg(media, 'one-at-a-time');
    const { service } = await weixin.module({ fit: { concurrency: 1, ffmpegPath: ffmpeg.path } });
    const h264 = await media.video('h264.mp4', 1, 160, 120);
    const mpeg4 = await media.video('mpeg4.mp4', 1, 160, 120, ['-c:v', 'mpeg4']);
    const wav = await media.audio('tone.wav', 1);
    const fitted = await Promise.all([
      ...[h264, h264, h264, h264, h264, mpeg4].map((source) => service.fit('video', source)),
      ...[wav, wav].map((source) => service.fit('voice', source)),
    ]);
    assert.deepEqual(
      fitted.map((media) => media.converted),
      [false, false, false, false, false, true, true, true],
      'H.264 MP4 sent as it is, the others converted',
    );
    const runs = ffmpeg.runs();
    assert.ok(runs.length > 8, `${runs.length} ffmpeg runs`);
    assert.ok(
      runs.every((run) => run.ended),
      'every run ended',
    );
    assert.equal(ffmpeg.mostAtOnce(), 1, 'never two ffmpeg at once, a codec check included');
  });

  it('an aborted fit rejects with the abort, wherever the abort finds it; no ffmpeg or temp file stays', async () => {
    const ffmpeg = new RecordedFfmpeg(media, 'held');
    const { service } = await weixin.module({ fit: { ffmpegPath: ffmpeg.path } });
    const inFfmpeg: Array<[what: string, type: MediaType, source: string]> = [
      ['an H.264 MP4 during its codec check', 'video', await media.video('h264.mp4', 1, 160, 120)],
      [
        'an MPEG-4 MP4 during its codec check',
        'video',
        await media.video('mpeg4.mp4', 1, 160, 120, ['-c:v', 'mpeg4']),
      ],
      ['a WAV during its conversion', 'voice', await media.audio('tone.wav', 1)],
      ['a BMP while ffmpeg describes it', 'image', await picture('photo.bmp')],
    ];
    let held = 0;
    for (const [what, type, source] of inFfmpeg) {
      ffmpeg.hold();
      const controller = new AbortController();
      const fitting = service.fit(type, source, { signal: controller.signal });
      // The run waits in the script, before ffmpeg starts: the fit is certainly in flight.
      const run = await ffmpeg.started(++held);
      controller.abort();
      await assert.rejects(fitting, { name: 'AbortError' }, what);
      ffmpeg.release();
      assert.equal(isAlive(run.pid), false, `${what}: its ffmpeg run was killed`);
    }

    // sharp's encodes cannot stop midway: an abort as one starts, or as the last ends, still rejects.
    const fitter = new MediaFitter({ ffmpegPath: ffmpeg.path });
    const inSharp: Array<[type: MediaType, source: string]> = [
      ['image', await picture('photo.webp', ['-c:v', 'libwebp'])],
      ['thumb', await picture('photo.png')],
    ];
    for (const [type, source] of inSharp) {
      for (const at of [0, 1]) {
        const controller = new AbortController();
        const fitting = fitter.fit(
          type,
          { content: bufferContent(readFileSync(source)) },
          { signal: controller.signal, onProgress: (done) => done === at && controller.abort() },
        );
        await assert.rejects(fitting, { name: 'AbortError' }, `${type} aborted at ${at} of 1`);
      }
    }
    assert.deepEqual(childProcesses('ffmpeg'), []);
    assert.deepEqual(
      readdirSync(tmpdir()).filter((name) => name.startsWith('nestjs-weixin-media-fit-')),
      [],
    );
  });
});
