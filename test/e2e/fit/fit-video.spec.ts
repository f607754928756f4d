import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { planBitrates } from '../../../lib/fit/video-fit';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { FitMediaDir } from '../../support/fit-media';
import { checkFitted } from './fit-checks';

const MB = 1024 * 1024;

describe('fit: video to H.264 + AAC MP4 within 10 MB (real ffmpeg)', () => {
  const weixin = fakeWeixinPerSuite();
  const media = new FitMediaDir();

  after(() => media.close());

  const sources: Array<[name: string, file: string, codec: string[], from: string]> = [
    ['MOV (QuickTime)', 'clip.mov', ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'], 'mov'],
    ['WebM (VP8 + Opus)', 'clip.webm', ['-c:v', 'libvpx', '-b:v', '300k', '-c:a', 'libopus'], 'webm'],
    ['MKV (MPEG-4 + MP3)', 'clip.mkv', ['-c:v', 'mpeg4', '-c:a', 'libmp3lame'], 'mkv'],
    ['AVI (MPEG-4 + MP3)', 'clip.avi', ['-c:v', 'mpeg4', '-c:a', 'libmp3lame'], 'avi'],
  ];
  for (const [name, file, codec, from] of sources) {
    it(`${name} becomes a faststart MP4 that passes the rules`, async () => {
      const source = await media.video(file, 2, 320, 240, codec);
      const fitted = await weixin.service.fit('video', source);
      assert.equal(fitted.format, 'mp4');
      assert.equal(fitted.from, from);
      await checkFitted('video', fitted, source, media);
      assertFaststart(fitted.data);
    });
  }

  it('an MP4 over 10 MB is brought within 10 MB, same duration and aspect', async () => {
    const source = await media.ffmpeg('big.mp4', [
      ...[
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=640x360:rate=25:duration=2',
        '-f',
        'lavfi',
        '-i',
        'sine=duration=2',
      ],
      ...[
        '-vf',
        'noise=alls=80:allf=t+u',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '2',
        '-c:a',
        'aac',
      ],
    ]);
    assert.ok(readFileSync(source).length > 10 * MB, 'the source is over 10 MB');
    const fitted = await weixin.service.fit('video', source);
    assert.equal(fitted.from, 'mp4');
    await checkFitted('video', fitted, source, media);
  });

  it('scales a frame wider than 1280 down to 1280, keeping the aspect ratio', async () => {
    const source = await media.video('wide.mkv', 1, 1600, 400, ['-c:v', 'mpeg4', '-c:a', 'libmp3lame']);
    const fitted = await weixin.service.fit('video', source);
    const { output } = await checkFitted('video', fitted, source, media);
    assert.equal(output.video!.width, 1280);
    assert.equal(output.video!.height, 320);
  });

  it('keeps the frame size when it is 1280 wide or less', async () => {
    const source = await media.video('narrow.avi', 1, 352, 288, ['-c:v', 'mpeg4', '-c:a', 'libmp3lame']);
    const { output } = await checkFitted('video', await weixin.service.fit('video', source), source, media);
    assert.deepEqual([output.video!.width, output.video!.height], [352, 288]);
  });

  it('an H.264 MP4 within 10 MB is answered byte for byte', async () => {
    const source = await media.video('fine.mp4', 1, 160, 120, [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-c:a',
      'aac',
    ]);
    const fitted = await weixin.service.fit('video', source);
    assert.equal(fitted.converted, false);
    assert.ok(fitted.data.equals(readFileSync(source)));
  });

  it('chooses bitrates from the duration so that the streams and the rate-control buffer fit the budget', () => {
    const budget = 10 * MB * 8 * 0.94;
    for (const seconds of [1, 10, 60, 300, 1200]) {
      const { videoKbps, audioKbps } = planBitrates(budget, seconds, true);
      const worstCaseBits = (videoKbps * (seconds + 1) + audioKbps * seconds) * 1000;
      assert.ok(
        worstCaseBits <= budget || videoKbps === 50,
        `${seconds} s: ${videoKbps}+${audioKbps} kbps fits`,
      );
      assert.ok(videoKbps <= 8000 && audioKbps <= 128);
    }
    assert.equal(planBitrates(budget, 60, true).audioKbps, 128);
    assert.equal(planBitrates(budget, 600, true).audioKbps, 64);
  });
});

/** `faststart`: the `moov` box comes before `mdat`, so playback can start before the download ends. */
function assertFaststart(data: Buffer): void {
  let offset = 0;
  const order: string[] = [];
  while (offset + 8 <= data.length && order.length < 8) {
    const size = data.readUInt32BE(offset);
    order.push(data.toString('latin1', offset + 4, offset + 8));
    if (size < 8) break;
    offset += size;
  }
  assert.ok(order.indexOf('moov') >= 0 && order.indexOf('moov') < order.indexOf('mdat'), order.join(' '));
}
