import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { crc32, createDeflate } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { MediaFitError, MediaSourceError, MediaValidationError } from '../../../lib';
import { findFfmpeg } from '../../../lib/fit/ffmpeg-engine';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { childProcesses, FitMediaDir, isAlive, RecordedFfmpeg } from '../../support/fit-media';

const UPLOAD = '/cgi-bin/media/upload';

describe('fit: hostile input, limits, abort and engines', () => {
  const weixin = fakeWeixinPerSuite({ fit: { maxInputBytes: 8 * 1024 * 1024 } });
  let trap: Server;
  let trapRequests = 0;
  let trapUrl = '';
  const media = new FitMediaDir();

  before(async () => {
    // Any request here means a crafted file made ffmpeg reach the network.
    trap = createServer((request, response) => {
      trapRequests++;
      response.end('#EXTM3U\n');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => trap.close(resolve));
    media.close();
  });

  it('an HLS playlist, an ffconcat list or an SDP naming URLs never makes ffmpeg open a connection', async () => {
    const crafted: Array<[name: string, text: string]> = [
      ['list.m3u8', `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${trapUrl}/a.ts\n#EXT-X-ENDLIST\n`],
      ['play.wav', `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n${trapUrl}/b.aac\n#EXT-X-ENDLIST\n`],
      ['list.ffconcat', `ffconcat version 1.0\nfile '${trapUrl}/c.wav'\n`],
      ['session.sdp', `v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 0\n`],
    ];
    for (const [name, text] of crafted) {
      const path = media.path(name);
      writeFileSync(path, text);
      for (const type of ['voice', 'video', 'image'] as const) {
        const error = await weixin.service.fit(type, path).then(
          () => assert.fail(`${name} as ${type} must be refused`),
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof MediaFitError || error instanceof MediaValidationError, String(error));
      }
    }
    const pathLikeUrl = await weixin.service.fit('voice', `${trapUrl}/d.wav`).catch((error) => error);
    assert.ok(
      pathLikeUrl instanceof MediaSourceError && pathLikeUrl.systemCode === 'ENOENT',
      'a URL string is a file path, and there is no such file',
    );
    assert.equal(trapRequests, 0, 'the local server received no request');
  });

  it('refuses a 20000×20000 PNG decompression bomb within seconds without a memory spike', async () => {
    const bomb = media.path('bomb.png');
    writeFileSync(bomb, await pngBomb(20000, 20000));
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    // As an image it passes Weixin's rules (a PNG within 10 MB): answered as it is, never decoded.
    const unchanged = await weixin.service.fit('image', bomb);
    assert.equal(unchanged.converted, false);
    for (const type of ['thumb'] as const) {
      const error = await weixin.service.fit(type, bomb).catch((caught: unknown) => caught);
      assert.ok(error instanceof MediaFitError, String(error));
      assert.equal(error.reason, 'input-too-large');
      assert.equal(error.limit, 100_000_000);
      assert.equal(error.actual, 400_000_000);
      assert.match(error.message, /20000×20000 \(400 megapixels\).*100 megapixels \(fit\.maxInputPixels\)/);
    }
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 100 * 1024 * 1024, `resident memory grew ${Math.round(grown / 1048576)} MB`);
  });

  it('refuses a 12000×12000 video frame (a 400 KB MKV) from its header, before any run decodes it', async () => {
    const ffmpeg = new RecordedFfmpeg(media, 'pixels-ffmpeg');
    const strict = await weixin.module({ fit: { ffmpegPath: ffmpeg.path } });
    try {
      const mkv = await media.hugeFrameMkv('huge-frame.mkv');
      assert.ok(statSync(mkv).size < 1024 * 1024, `${statSync(mkv).size} bytes`);
      for (const fit of [
        () => strict.service.fit('video', mkv),
        () => strict.service.upload('video', mkv, { fit: true }),
      ]) {
        const error = await fit().catch((caught: unknown) => caught);
        assert.ok(error instanceof MediaFitError, String(error));
        assert.equal(error.reason, 'input-too-large');
        assert.equal(error.type, 'video');
        assert.equal(error.limit, 100_000_000);
        assert.equal(error.actual, 144_000_000);
        assert.match(error.message, /12000×12000 \(144 megapixels\).*100 megapixels \(fit\.maxInputPixels\)/);
      }
      // Only descriptions of the input ran (no output file), each with ffmpeg's own pixel bound.
      const runs = ffmpeg.runs().filter((run) => !run.args.includes('-encoders'));
      assert.ok(runs.length > 0);
      for (const run of runs) {
        assert.match(run.args, /^-nostdin .*-max_pixels 100000000 .*-i file:\S+$/, run.args);
      }
      assert.equal(weixin.fake.requests.filter((request) => request.path === UPLOAD).length, 0);
    } finally {
      await strict.close();
    }
  });

  it('images that fail only when decoded (a damaged PNG IDAT, a damaged WebP) fail with MediaFitError', async () => {
    const png = await media.damagedPng('damaged.png');
    const webp = await media.damagedWebp('damaged.webp');
    for (const [type, source] of [
      ['thumb', png],
      ['image', webp],
      ['thumb', webp],
    ] as const) {
      for (const fit of [
        () => weixin.service.fit(type, source),
        () => weixin.service.upload(type, source, { fit: true }),
      ]) {
        const error = await fit().catch((caught: unknown) => caught);
        assert.ok(error instanceof MediaFitError, `${type} ${source}: ${error}`);
        assert.equal(error.reason, 'failed');
        assert.equal(error.type, type);
        assert.match(error.message, new RegExp(`sharp could not decode this ${type} source \\(damaged`));
      }
    }
    assert.equal(weixin.fake.requests.filter((request) => request.path === UPLOAD).length, 0);
  });

  it('refuses a source over fit.maxInputBytes: a file before reading it, a stream as soon as it passes', async () => {
    const big = media.path('big.wav');
    writeFileSync(big, Buffer.alloc(9 * 1024 * 1024));
    const file = await weixin.service.fit('voice', big).catch((error: unknown) => error);
    assert.ok(file instanceof MediaFitError);
    assert.equal(file.reason, 'input-too-large');
    assert.match(file.message, /9 MB; fit reads at most 8 MB \(fit\.maxInputBytes\)/);

    let pulled = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          pulled += 64 * 1024;
          yield Buffer.alloc(64 * 1024);
        }
      })(),
    );
    const stream = await weixin.service.fit('voice', endless).catch((error: unknown) => error);
    assert.ok(stream instanceof MediaFitError);
    assert.equal(stream.reason, 'input-too-large');
    assert.ok(pulled <= 8 * 1024 * 1024 + 256 * 1024, `read ${pulled} bytes of an endless stream`);
  });

  it('damaged and disguised media fail with a MediaFitError, never a crash', async () => {
    const riffGarbage = Buffer.concat([
      Buffer.from('RIFF\x24\x00\x10\x00WAVEfmt ', 'latin1'),
      Buffer.alloc(4000, 7),
    ]);
    const movCut = await media.video('cut.mov', 1, 160, 120, ['-c:v', 'mpeg4']);
    const cut = readFileSync(movCut).subarray(0, 3000);
    for (const [type, data] of [
      ['voice', riffGarbage],
      ['video', cut],
      ['image', riffGarbage],
      [
        'thumb',
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'),
      ],
    ] as const) {
      const error = await weixin.service.fit(type, data).catch((caught: unknown) => caught);
      assert.ok(error instanceof MediaFitError || error instanceof MediaValidationError, `${type}: ${error}`);
    }
  });

  it('an abort kills the ffmpeg child and removes its temp files', async () => {
    const source = await media.video('long.avi', 20, 640, 360, ['-c:v', 'mpeg4', '-q:v', '5']);
    const controller = new AbortController();
    const fitting = weixin.service.fit('video', source, { signal: controller.signal });
    const pid = await waitForChild('ffmpeg');
    controller.abort();
    const error = await fitting.catch((caught: unknown) => caught);
    assert.equal((error as Error).name, 'AbortError');
    assert.equal(isAlive(pid), false, `ffmpeg ${pid} is gone`);
    assert.deepEqual(fitDirs(), []);
  });

  it('stops a conversion that passes fit.timeoutMs, killing its child', async () => {
    const slow = await weixin.module({ fit: { timeoutMs: 400 } });
    try {
      const source = media.path('long.avi');
      const fitting = slow.service.fit('video', source);
      const pid = await waitForChild('ffmpeg');
      const error = await fitting.catch((caught: unknown) => caught);
      assert.ok(error instanceof MediaFitError);
      assert.equal(error.reason, 'timeout');
      assert.match(error.message, /400 ms \(fit\.timeoutMs\)/);
      assert.equal(isAlive(pid), false);
      assert.deepEqual(fitDirs(), []);
    } finally {
      await slow.close();
    }
  });

  it('a missing engine fails with engine-missing, naming what to install; an explicit path is never replaced', async () => {
    const broken = await weixin.module({ fit: { ffmpegPath: '/nonexistent/ffmpeg' } });
    try {
      const source = await media.audio('engine.wav', 1);
      const error = await broken.service.fit('voice', source).catch((caught: unknown) => caught);
      assert.ok(error instanceof MediaFitError);
      assert.equal(error.reason, 'engine-missing');
      assert.match(error.message, /fit\.ffmpegPath "\/nonexistent\/ffmpeg" does not run \(ENOENT\)/);
      const support = await broken.service.fitSupport();
      assert.equal(support.voice, false);
      assert.equal(support.video, false);
      assert.equal(support.image, true);
      assert.equal(support.engines.ffmpeg, undefined);
      assert.ok(support.missing.some((line) => /^voice: .*\/nonexistent\/ffmpeg/.test(line)));
    } finally {
      await broken.close();
    }
    const emptyPath = media.path('no-tools');
    mkdirSync(emptyPath);
    const none = await findFfmpeg(undefined, { PATH: emptyPath });
    assert.equal(none.engine, undefined);
    assert.match(none.problem!, /apt-get install ffmpeg.*@ffmpeg-installer\/ffmpeg.*fit\.ffmpegPath/);
  });

  it('an explicit ffmpeg that does not run names the cure: the ffmpeg found without it, or what to install', async () => {
    const emptyPath = media.path('no-ffmpeg');
    mkdirSync(emptyPath);
    const alone = await findFfmpeg('/nonexistent/ffmpeg', { PATH: emptyPath });
    assert.equal(alone.engine, undefined);
    assert.match(
      alone.problem!,
      /^fit\.ffmpegPath "\/nonexistent\/ffmpeg" does not run \(ENOENT\), and no other ffmpeg runs here: install ffmpeg \(apt-get install ffmpeg, brew install ffmpeg\) or the optional package @ffmpeg-installer\/ffmpeg, then point fit\.ffmpegPath at it or unset it$/,
    );
    const envAlone = await findFfmpeg(undefined, { PATH: emptyPath, FFMPEG_PATH: '/nonexistent/ffmpeg' });
    assert.match(
      envAlone.problem!,
      /^FFMPEG_PATH .* install ffmpeg .*then point FFMPEG_PATH at it or unset it$/,
    );
    const bin = media.path('bin-beside');
    mkdirSync(bin);
    symlinkSync('/usr/bin/ffmpeg', `${bin}/ffmpeg`);
    const beside = await findFfmpeg('/nonexistent/ffmpeg', { PATH: bin });
    assert.match(
      beside.problem!,
      /does not run \(ENOENT\); fix it, or unset it to use ffmpeg \(from PATH\)$/,
    );
  });

  it('finds ffmpeg as fit.ffmpegPath, then FFMPEG_PATH, then PATH, and lists its encoders', async () => {
    const bin = media.path('bin');
    mkdirSync(bin);
    symlinkSync('/usr/bin/ffmpeg', `${bin}/ffmpeg`);
    symlinkSync('/usr/bin/ffmpeg', `${bin}/chosen-ffmpeg`);
    symlinkSync('/usr/bin/ffmpeg', `${bin}/env-ffmpeg`);
    const env = { PATH: bin, FFMPEG_PATH: `${bin}/env-ffmpeg` };
    const explicit = await findFfmpeg(`${bin}/chosen-ffmpeg`, env);
    assert.equal(explicit.engine?.path, `${bin}/chosen-ffmpeg`);
    assert.equal(explicit.engine?.foundBy, 'fit.ffmpegPath');
    const fromEnv = await findFfmpeg(undefined, env);
    assert.equal(fromEnv.engine?.foundBy, 'FFMPEG_PATH');
    const fromPath = await findFfmpeg(undefined, { PATH: bin });
    assert.equal(fromPath.engine?.foundBy, 'PATH');
    assert.ok(fromPath.engine?.encoders.has('libmp3lame') && fromPath.engine.encoders.has('libx264'));
    assert.match(fromPath.engine!.version, /^\d/);
    const brokenEnv = await findFfmpeg(undefined, { PATH: bin, FFMPEG_PATH: `${bin}/missing` });
    assert.equal(brokenEnv.engine, undefined, 'a broken FFMPEG_PATH is reported, not replaced by PATH');
    assert.match(brokenEnv.problem!, /FFMPEG_PATH .*does not run/);
  });

  it('leaves no temp file behind', () => {
    assert.deepEqual(fitDirs(), []);
  });
});

function fitDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('nestjs-weixin-media-'));
}

async function waitForChild(name: string): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const [pid] = childProcesses(name);
    if (pid) return pid;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no ${name} child process started`);
}

/** A real PNG of `width`×`height` grey pixels: a few hundred KB on disk, `width`×`height` bytes decoded. */
async function pngBomb(width: number, height: number): Promise<Buffer> {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const deflate = createDeflate({ level: 1 });
  const compressed: Buffer[] = [];
  deflate.on('data', (data: Buffer) => compressed.push(data));
  const row = Buffer.alloc(width + 1); // filter byte 0, then zeros
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  const ended = once(deflate, 'end');
  deflate.end();
  await ended;
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.concat(compressed)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
