import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { MediaValidationError } from '../../../lib';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { FitMediaDir } from '../../support/fit-media';
import { checkFitted } from './fit-checks';

describe('fit: voice to mono MP3 within 2 MB and 60 s (real ffmpeg)', () => {
  const weixin = fakeWeixinPerSuite();
  const media = new FitMediaDir();

  after(() => media.close());

  const sources: Array<[name: string, file: string, codec: string[], from: string]> = [
    ['WAV', 'tone.wav', [], 'wav'],
    ['M4A/AAC', 'tone.m4a', ['-c:a', 'aac'], 'm4a'],
    ['OGG Vorbis', 'tone.ogg', ['-c:a', 'libvorbis'], 'ogg'],
    ['OGG Opus', 'tone.opus', ['-c:a', 'libopus', '-f', 'ogg'], 'opus'],
    ['WebM/Opus', 'tone.webm', ['-c:a', 'libopus'], 'webm'],
    ['FLAC', 'tone.flac', ['-c:a', 'flac'], 'flac'],
  ];
  for (const [name, file, codec, from] of sources) {
    it(`${name} becomes MP3 that passes the rules and plays as long as the source`, async () => {
      const source = await media.audio(file, 3, codec);
      const fitted = await weixin.service.fit('voice', source);
      assert.equal(fitted.format, 'mp3');
      assert.equal(fitted.from, from);
      assert.ok(fitted.durationMs! > 2900 && fitted.durationMs! < 3100, `${fitted.durationMs} ms`);
      await checkFitted('voice', fitted, source, media);
    });
  }

  it('an MP3 over 2 MB becomes one within 2 MB at most 128 kbps mono', async () => {
    const source = await media.audio('loud.mp3', 56, ['-ac', '2', '-c:a', 'libmp3lame', '-b:a', '320k']);
    assert.ok(readFileSync(source).length > 2 * 1024 * 1024, 'the source is over 2 MB');
    const fitted = await weixin.service.fit('voice', source);
    assert.equal(fitted.from, 'mp3');
    const { output } = await checkFitted('voice', fitted, source, media);
    assert.equal(output.audio?.bitRate, 128_000, 'the highest bitrate that fits 2 MB for 56 s');
  });

  it('a 75 s WAV is refused without trim, with the rule and the numbers, and cut under 60 s with it', async () => {
    const source = await media.audio('long.wav', 75, [], 8000);
    const refused = await weixin.service.fit('voice', source).then(
      () => assert.fail('a 75 s voice must not pass without trim'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof MediaValidationError);
    assert.equal(refused.reason, 'too-long');
    assert.equal(refused.limit, 60_000);
    assert.equal(refused.actual, 75_000);
    assert.match(refused.message, /75\.0 s.*60 s.*trim/);

    const trimmed = await weixin.service.fit('voice', source, { trim: true });
    assert.ok(trimmed.durationMs! <= 60_000 && trimmed.durationMs! > 59_000, `${trimmed.durationMs} ms`);
    await checkFitted('voice', trimmed, source, media, { durationSeconds: 59.75 });
  });

  it('an MP3 that already passes is answered byte for byte (converted: false)', async () => {
    const source = await media.audio('fine.mp3', 2, ['-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k']);
    const fitted = await weixin.service.fit('voice', source);
    assert.equal(fitted.converted, false);
    assert.equal(fitted.from, 'mp3');
    assert.ok(fitted.data.equals(readFileSync(source)), 'the very same bytes');
  });
});
