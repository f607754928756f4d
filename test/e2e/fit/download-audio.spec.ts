import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { type DownloadedAudio, MediaFitError, WeixinApiError } from '../../../lib';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { ffprobe, FitMediaDir, type Probed } from '../../support/fit-media';
import { spooledFiles } from '../../support/open-descriptors';
import { mediaFixture } from '../../support/paths';

const run = promisify(execFile);
const MB = 1024 * 1024;
const OTHER = { appId: 'wxaudio000000000001', appSecret: 'secret-of-the-audio-account' };
const GET = '/cgi-bin/media/get';
const JSSDK = '/cgi-bin/media/get/jssdk';

describe('downloadAudio: voice from Weixin decoded for speech recognition (real ffmpeg)', () => {
  const weixin = fakeWeixinPerSuite({ accounts: [OTHER] }, { accounts: [OTHER] });
  const media = new FitMediaDir();
  /** Headerless 16 kHz wideband Speex as the JS-SDK records it: 60-byte frames of 20 ms, 3 s of a tone. */
  let speex: Buffer;
  let speexTone: string;

  before(async () => {
    speexTone = await media.audio('hd-tone.wav', 3, ['-ac', '1'], 16000);
    const ogg = await media.ffmpeg('hd.ogg', ['-i', speexTone, '-c:a', 'libspeex', '-cbr_quality', '7']);
    // The Ogg packets, back to back without their pages: Weixin's framing.
    speex = readFileSync(
      await media.ffmpeg('hd.speex', ['-i', ogg, '-map', '0:a', '-c', 'copy', '-f', 'data']),
    );
  });
  after(() => media.close());

  /** Writes the decoded audio out and checks it with ffprobe: mono, the rate asked, as long as `seconds`. */
  async function checkDecoded(
    audio: DownloadedAudio,
    expected: { codec: string; rate: number; seconds: number },
  ): Promise<Probed> {
    const path = media.path(`decoded-${Math.random().toString(36).slice(2)}.${audio.format}`);
    writeFileSync(path, audio.data);
    const probed = await ffprobe(path);
    assert.equal(probed.formatName, audio.format);
    assert.equal(probed.audio?.codec, expected.codec);
    assert.equal(probed.audio?.channels, 1, 'mono');
    assert.equal(probed.audio?.sampleRate, expected.rate);
    const within = (actual: number, wanted: number, what: string) =>
      assert.ok(
        Math.abs(actual - wanted) <= wanted * 0.02,
        `${what} ${actual} s is within 2 % of ${wanted} s`,
      );
    within(probed.durationSeconds, expected.seconds, 'the decoded audio plays');
    within(audio.durationMs / 1000, probed.durationSeconds, 'durationMs says it plays');
    return probed;
  }

  async function uploadedVoice(fixture: string, service = weixin.service): Promise<string> {
    return (await service.uploadVoice(mediaFixture(fixture), { reuse: false })).mediaId;
  }

  it('AMR-NB from media/get becomes mono 16-bit WAV at 16 kHz by default', async () => {
    const mediaId = await uploadedVoice('voice-speech.amr');
    const audio = await weixin.service.downloadAudio(mediaId);
    assert.equal(audio.mediaId, mediaId);
    assert.equal(audio.from, 'amr');
    assert.equal(audio.format, 'wav');
    const source = await ffprobe(mediaFixture('voice-speech.amr'));
    await checkDecoded(audio, { codec: 'pcm_s16le', rate: 16000, seconds: source.durationSeconds });
    assert.equal(audio.data.readUInt32LE(40), audio.data.length - 44, 'a plain 44-byte WAV header');
  });

  it('MP3 from media/get becomes WAV at the rate asked, or MP3', async () => {
    const mediaId = await uploadedVoice('voice-speech.mp3');
    const { durationSeconds } = await ffprobe(mediaFixture('voice-speech.mp3'));
    const wav = await weixin.service.downloadAudio(mediaId, { sampleRate: 8000 });
    assert.equal(wav.from, 'mp3');
    await checkDecoded(wav, { codec: 'pcm_s16le', rate: 8000, seconds: durationSeconds });
    const mp3 = await weixin.service.downloadAudio(mediaId, { format: 'mp3' });
    assert.equal(mp3.format, 'mp3');
    await checkDecoded(mp3, { codec: 'mp3', rate: 16000, seconds: durationSeconds });
  });

  it('the JS-SDK high-definition voice (hd: Speex from media/get/jssdk) becomes the tone it recorded', async () => {
    assert.equal(speex.length % 60, 0, 'the sample is whole 60-byte frames');
    const mediaId = await uploadedVoice('voice-speech.amr');
    weixin.fake.setHdVoice(mediaId, speex);
    const before = weixin.fake.countRequests(JSSDK);
    const audio = await weixin.service.downloadAudio(mediaId, { hd: true });
    assert.equal(weixin.fake.countRequests(JSSDK), before + 1);
    assert.equal(audio.from, 'speex');
    await checkDecoded(audio, { codec: 'pcm_s16le', rate: 16000, seconds: (speex.length / 60) * 0.02 });
    const path = media.path('hd-decoded.wav');
    writeFileSync(path, audio.data);
    const [heard, recorded] = await Promise.all([rmsLevel(path), rmsLevel(speexTone)]);
    assert.ok(
      Math.abs(heard - recorded) <= 3,
      `RMS ${heard} dB is within 3 dB of the recording's ${recorded} dB`,
    );
  });

  it('hd on a voice without a JS-SDK recording decodes what media/get/jssdk answers (the AMR)', async () => {
    const mediaId = await uploadedVoice('voice-speech.amr');
    const audio = await weixin.service.downloadAudio(mediaId, { hd: true });
    assert.equal(audio.from, 'amr');
    const source = await ffprobe(mediaFixture('voice-speech.amr'));
    await checkDecoded(audio, { codec: 'pcm_s16le', rate: 16000, seconds: source.durationSeconds });
  });

  it('works for another account through forAccount, whose media_id is unknown to the first', async () => {
    const account = weixin.service.forAccount(OTHER.appId);
    const mediaId = (await account.uploadVoice(mediaFixture('voice-speech.amr'), { reuse: false })).mediaId;
    weixin.fake.setHdVoice(mediaId, speex);
    const audio = await account.downloadAudio(mediaId, { hd: true });
    assert.equal(audio.from, 'speex');
    await assert.rejects(weixin.service.downloadAudio(mediaId, { hd: true }), (error: WeixinApiError) => {
      assert.equal(error.errcode, 40007);
      return true;
    });
  });

  it('refuses bad options, a missing ffmpeg and an unknown media_id before reading any voice', async () => {
    const mediaId = await uploadedVoice('voice-speech.amr');
    const downloads = () => weixin.fake.countRequests(GET) + weixin.fake.countRequests(JSSDK);
    const before = downloads();
    await assert.rejects(weixin.service.downloadAudio(mediaId, { format: 'ogg' as 'wav' }), {
      name: 'RangeError',
      message: `downloadAudio writes the format 'wav' or 'mp3'; got "ogg"`,
    });
    await assert.rejects(weixin.service.downloadAudio(mediaId, { sampleRate: 44000 }), {
      name: 'RangeError',
      message: /sampleRate is one of 8000, .*, 48000 Hz; got 44000/,
    });
    const broken = await weixin.module({ fit: { ffmpegPath: '/nonexistent/ffmpeg' } });
    const missing = await broken.service.downloadAudio(mediaId).catch((error: unknown) => error);
    assert.ok(missing instanceof MediaFitError);
    assert.equal(missing.reason, 'engine-missing');
    assert.match(
      missing.message,
      /^downloadAudio needs ffmpeg: fit\.ffmpegPath "\/nonexistent\/ffmpeg" does not run/,
    );
    assert.equal(downloads(), before, 'no download was made');

    await assert.rejects(weixin.service.downloadAudio('no-such-media'), (error: WeixinApiError) => {
      assert.equal(error.errcode, 40007);
      return true;
    });
  });

  it('refuses a video, a voice over 61 s and Speex over 61 s, with the numbers', async () => {
    const videoId = (await weixin.service.uploadVideo(mediaFixture('video-clip.mp4'))).mediaId;
    const video = await weixin.service.downloadAudio(videoId).catch((error: unknown) => error);
    assert.ok(video instanceof MediaFitError);
    assert.equal(video.reason, 'unsupported-input');
    assert.match(video.message, /is a video .*downloadAudio decodes voice/);

    // Two 61 s AMR files as one: 122 s, which no Weixin voice plays (uploaded raw: the fake does not time it).
    const amr = readFileSync(mediaFixture('voice-61s.amr'));
    const longAmr = Buffer.concat([amr, amr.subarray('#!AMR\n'.length)]);
    const longId = await rawVoiceUpload(longAmr, 'long.amr');
    const long = await weixin.service.downloadAudio(longId).catch((error: unknown) => error);
    assert.ok(long instanceof MediaFitError, String(long));
    assert.equal(long.reason, 'input-too-large');
    assert.equal(long.limit, 61_000);
    assert.match(
      long.message,
      /plays .* s; Weixin keeps voice of at most 60 s, so downloadAudio decodes at most 61 s/,
    );

    const mediaId = await uploadedVoice('voice-speech.amr');
    const frames = speex.length / 60;
    weixin.fake.setHdVoice(
      mediaId,
      Buffer.concat(Array.from({ length: Math.ceil(3100 / frames) }, () => speex)),
    );
    const hd = await weixin.service.downloadAudio(mediaId, { hd: true }).catch((error: unknown) => error);
    assert.ok(hd instanceof MediaFitError);
    assert.equal(hd.reason, 'input-too-large');
    assert.equal(hd.actual, Math.ceil(3100 / frames) * frames * 20);
    assert.match(hd.message, /^this voice plays 6\d\.\d s; Weixin keeps voice of at most 60 s/);
  });

  async function rawVoiceUpload(data: Buffer, filename: string): Promise<string> {
    const token = (await fetch(
      `${weixin.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${weixin.fake.appId}&secret=${weixin.fake.appSecret}`,
    ).then((response) => response.json())) as { access_token: string };
    const form = new FormData();
    form.append('media', new Blob([data]), filename);
    const answer = (await fetch(
      `${weixin.baseUrl}/cgi-bin/media/upload?access_token=${token.access_token}&type=voice`,
      { method: 'POST', body: form },
    ).then((response) => response.json())) as { media_id: string };
    return answer.media_id;
  }

  describe('hostile or odd answers from a stand-in Weixin', () => {
    let server: Server;
    let base = '';
    let endlessBytesSent = 0;
    /** What the stand-in answers for each media_id, on media/get and media/get/jssdk alike. */
    const answers: Record<string, (response: ServerResponse) => void> = {};

    before(async () => {
      server = createServer((request, response) => {
        const url = new URL(request.url ?? '/', 'http://stand-in');
        if (url.pathname === '/cgi-bin/token' || url.pathname === '/cgi-bin/stable_token') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ access_token: 'stand-in-token', expires_in: 7200 }));
          return;
        }
        const answer = answers[url.searchParams.get('media_id') ?? ''];
        if (answer) answer(response);
        else response.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const voice = (contentType: string, data: Buffer) => (response: ServerResponse) => {
      response.writeHead(200, { 'content-type': contentType, 'content-length': data.length }).end(data);
    };

    it('AMR-WB from media/get becomes WAV at 16 kHz', async () => {
      // 150 frames of mode 8 (23.85 kbit/s, 60 payload bytes): 3 s. No AMR-WB encoder here, so made by hand.
      const frames = Array.from({ length: 150 }, (_, i) =>
        Buffer.concat([
          Buffer.from([0x44]),
          Buffer.from(Array.from({ length: 60 }, (_, j) => (i * 31 + j * 7) & 0xff)),
        ]),
      );
      answers.wideband = voice('audio/amr', Buffer.concat([Buffer.from('#!AMR-WB\n', 'latin1'), ...frames]));
      const context = await weixin.module({ apiBaseUrl: base });
      const audio = await context.service.downloadAudio('wideband');
      assert.equal(audio.from, 'amr-wb');
      await checkDecoded(audio, { codec: 'pcm_s16le', rate: 16000, seconds: 3 });
    });

    it('answers that are not voice, or not Speex, are a typed MediaFitError', async () => {
      answers.html = voice('audio/amr', Buffer.from('<html><body>maintenance</body></html>'.repeat(40)));
      answers.empty = voice('audio/amr', Buffer.alloc(0));
      answers.garbage = voice('voice/speex', Buffer.alloc(6000, 0xff));
      answers.crumb = voice('voice/speex', speex.subarray(0, 59));
      const context = await weixin.module({ apiBaseUrl: base });
      const cases: Array<[mediaId: string, hd: boolean, reason: string, message: RegExp]> = [
        ['html', false, 'unsupported-input', /^ffmpeg cannot read this voice: /],
        ['empty', false, 'unsupported-input', /^Weixin answered the voice with 0 bytes$/],
        ['garbage', true, 'failed', /^ffmpeg could not decode this high-definition voice as Speex: /],
        ['crumb', true, 'unsupported-input', /is 59 bytes, less than one 60-byte Speex frame/],
      ];
      for (const [mediaId, hd, reason, message] of cases) {
        const error = await context.service.downloadAudio(mediaId, { hd }).catch((caught: unknown) => caught);
        assert.ok(error instanceof MediaFitError, `${mediaId}: ${error}`);
        assert.equal(error.reason, reason, mediaId);
        assert.match(error.message, message);
      }
    });

    it('reads no more than the bound: 2 MB (Weixin keeps no larger voice) or fit.maxInputBytes when lower', async () => {
      answers.declared = (response) => {
        response.writeHead(200, { 'content-type': 'audio/amr', 'content-length': 50 * MB });
        response.write('#!AMR\n');
      };
      answers.endless = (response) => {
        response.writeHead(200, { 'content-type': 'audio/amr' });
        const chunk = Buffer.alloc(64 * 1024, 0x3c);
        const pump = () => {
          while (!response.destroyed && endlessBytesSent < 100 * MB) {
            endlessBytesSent += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
        };
        pump();
      };
      const context = await weixin.module({ apiBaseUrl: base });
      const declared = await context.service.downloadAudio('declared').catch((error: unknown) => error);
      assert.ok(declared instanceof MediaFitError);
      assert.equal(declared.reason, 'input-too-large');
      assert.equal(declared.limit, 2 * MB);
      assert.equal(declared.actual, 50 * MB);
      assert.match(
        declared.message,
        /answered 50 MB for the voice declared; downloadAudio reads at most 2 MB/,
      );

      const endless = await context.service.downloadAudio('endless').catch((error: unknown) => error);
      assert.ok(endless instanceof MediaFitError);
      assert.equal(endless.reason, 'input-too-large');
      assert.match(endless.message, /answered more than 2 MB/);
      assert.ok(
        endlessBytesSent < 12 * MB,
        `the stand-in sent ${endlessBytesSent} bytes before the socket closed`,
      );

      const small = await weixin.module({ apiBaseUrl: base, fit: { maxInputBytes: 64 * 1024 } });
      answers.modest = voice('audio/amr', Buffer.alloc(100 * 1024));
      const modest = await small.service.downloadAudio('modest').catch((error: unknown) => error);
      assert.ok(modest instanceof MediaFitError);
      assert.equal(modest.limit, 64 * 1024);
      assert.match(modest.message, /answered 100 KB .* reads at most 64 KB/);
    });

    it('aborting while Weixin sends stops the download; a conversion over fit.timeoutMs is stopped', async () => {
      let stallingClosed = false;
      answers.stalling = (response) => {
        response.once('close', () => (stallingClosed = true));
        response.writeHead(200, { 'content-type': 'audio/amr' });
        response.write(readFileSync(mediaFixture('voice-speech.amr')).subarray(0, 200));
      };
      const context = await weixin.module({ apiBaseUrl: base });
      const controller = new AbortController();
      const stalled = context.service.downloadAudio('stalling', { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const aborted = await stalled.catch((error: unknown) => error);
      assert.equal((aborted as Error).name, 'AbortError');
      for (let i = 0; i < 100 && !stallingClosed; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(stallingClosed, 'the socket of the aborted download was closed');

      answers.fine = voice('audio/amr', readFileSync(mediaFixture('voice-speech.amr')));
      const hasty = await weixin.module({ apiBaseUrl: base, fit: { timeoutMs: 1 } });
      const timeout = await hasty.service.downloadAudio('fine').catch((error: unknown) => error);
      assert.ok(timeout instanceof MediaFitError);
      assert.equal(timeout.reason, 'timeout');
      assert.match(timeout.message, /1 ms \(fit\.timeoutMs\)/);
    });
  });

  it('leaves no temp file behind', () => {
    assert.deepEqual(spooledFiles(), []);
  });
});

/** The RMS level of a file's audio, in dB, as ffmpeg's astats filter measures it. */
async function rmsLevel(path: string): Promise<number> {
  const { stderr } = await run('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-i', path, '-af', 'astats=measure_perchannel=none', '-f', 'null', '-'],
  ]);
  const level = /RMS level dB: (-?[\d.]+)/.exec(stderr);
  assert.ok(level, 'astats measured the level');
  return Number(level[1]);
}
