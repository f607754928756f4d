import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { fitThumb, readImageHeader } from '../../../lib/fit/image-fit';
import type { SharpFactory } from '../../../lib/fit/sharp-engine';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { FitMediaDir, ffprobe } from '../../support/fit-media';
import { checkFitted } from './fit-checks';

const MB = 1024 * 1024;

describe('fit: images and thumbs with sharp (real encoders)', () => {
  const weixin = fakeWeixinPerSuite();
  const media = new FitMediaDir();

  after(() => media.close());

  const picture = (name: string, width: number, height: number, codec: string[] = []) =>
    media.ffmpeg(name, ['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}`, '-frames:v', '1', ...codec]);

  for (const [name, file, from] of [
    ['WebP', 'photo.webp', 'webp'],
    ['BMP', 'photo.bmp', 'bmp'],
    ['TIFF', 'photo.tiff', 'tiff'],
  ] as const) {
    it(`${name} becomes a JPEG image, and a thumb, that pass the rules`, async () => {
      const source = await picture(file, 640, 360);
      const image = await weixin.service.fit('image', source);
      assert.equal(image.format, 'jpeg');
      assert.equal(image.from, from);
      const { output } = await checkFitted('image', image, source, media);
      assert.deepEqual([output.video!.width, output.video!.height], [640, 360], 'not scaled: it fits');
      const thumb = await weixin.service.fit('thumb', source);
      assert.equal(thumb.format, 'jpeg');
      await checkFitted('thumb', thumb, source, media);
      assertBaseline(thumb.data);
    });
  }

  it('a PNG over 10 MB becomes a JPEG within 10 MB at its full size', async () => {
    const source = media.path('screenshot.png');
    await noise(2000, 1900, 3).png({ compressionLevel: 6 }).toFile(source);
    assert.ok(readFileSync(source).length > 10 * MB, 'the source is over 10 MB');
    const fitted = await weixin.service.fit('image', source);
    assert.equal(fitted.format, 'jpeg');
    assert.equal(fitted.from, 'png');
    const { output } = await checkFitted('image', fitted, source, media);
    assert.deepEqual([output.video!.width, output.video!.height], [2000, 1900]);
  });

  it('a PNG with transparency over 10 MB stays a PNG with its alpha when it fits', async () => {
    const source = media.path('overlay.png');
    const { data, info } = await sharp({
      create: { width: 1800, height: 1500, channels: 4, background: { r: 20, g: 120, b: 200, alpha: 0.5 } },
    })
      .raw()
      .toBuffer({ resolveWithObject: true });
    await sharp(data, { raw: info }).png({ compressionLevel: 0 }).toFile(source);
    assert.ok(readFileSync(source).length > 10 * MB, 'the source is over 10 MB (stored uncompressed)');
    const fitted = await weixin.service.fit('image', source);
    assert.equal(fitted.format, 'png');
    await checkFitted('image', fitted, source, media);
    const metadata = await sharp(fitted.data).metadata();
    assert.equal(metadata.hasAlpha, true, 'transparency kept');
  });

  it('a 4000×3000 JPEG becomes a baseline JPEG thumb within 64 KB in at most 4 encodes', async () => {
    const source = await picture('camera.jpg', 4000, 3000, ['-q:v', '2']);
    const fitted = await weixin.service.fit('thumb', source);
    assert.equal(fitted.from, 'jpeg');
    await checkFitted('thumb', fitted, source, media);
    assertBaseline(fitted.data);
    const header = await readImageHeader(sharp as unknown as SharpFactory, source, 'thumb', 1e8);
    const direct = await fitThumb(sharp as unknown as SharpFactory, source, header, 1e8);
    assert.ok(direct.encodes <= 4, `${direct.encodes} encodes`);
    assert.ok(
      direct.data.length > 64 * 1024 * 0.6,
      `${direct.data.length} bytes: the budget is used, not wasted`,
    );
  });

  it('applies EXIF orientation and drops metadata', async () => {
    const source = media.path('turned.webp');
    await noise(300, 200, 3).webp().withMetadata({ orientation: 6 }).toFile(source);
    const fitted = await weixin.service.fit('image', source);
    const metadata = await sharp(fitted.data).metadata();
    assert.deepEqual([metadata.width, metadata.height], [200, 300], 'turned a quarter as EXIF says');
    assert.equal(metadata.orientation, undefined);
    assert.equal(metadata.exif, undefined);
  });

  it('a JPEG thumb that already passes is answered byte for byte', async () => {
    const source = await picture('small.jpg', 160, 120);
    const fitted = await weixin.service.fit('thumb', source);
    assert.equal(fitted.converted, false);
    assert.ok(fitted.data.equals(readFileSync(source)));
  });

  it('a BMP decoded through ffmpeg keeps its size and aspect', async () => {
    const source = await picture('wide.bmp', 400, 100);
    const fitted = await weixin.service.fit('image', source);
    const out = media.path('wide-out.jpg');
    writeFileSync(out, fitted.data);
    const probed = await ffprobe(out);
    assert.deepEqual([probed.video!.width, probed.video!.height], [400, 100]);
  });
});

function noise(width: number, height: number, channels: 3 | 4) {
  return sharp({
    create: {
      width,
      height,
      channels,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  });
}

/** Baseline: a SOF0 frame header, no SOF2 (progressive). */
function assertBaseline(jpeg: Buffer): void {
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) break;
    const marker = jpeg[offset + 1];
    if (marker === 0xc0) return;
    assert.notEqual(marker, 0xc2, 'not progressive');
    offset += 2 + jpeg.readUInt16BE(offset + 2);
  }
  assert.fail('no baseline frame header (SOF0) found');
}
