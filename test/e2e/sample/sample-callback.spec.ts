import { XMLParser } from 'fast-xml-parser';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { TemporaryMediaService } from '../../../lib';
import { FakeWeixinServer, type FakeDelivery } from '../../../lib/testing';
import type { SampleApp } from '../../../sample/sample-app';
import { mediaFixture, REPO_ROOT } from '../../support/paths';
import { SAMPLE_CALLBACK_TOKEN, signedCallbackQuery, startSampleApp } from '../../support/sample-app';

const UPLOAD = '/cgi-bin/media/upload';
const DOWNLOAD = '/cgi-bin/media/get';
const ACCOUNT = 'gh_0123456789ab';
/** An EncodingAESKey of the server settings (43 characters), for safe mode. */
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const USER = 'oUser-3f9aC1';
/** Weixin gives up on a passive reply after 5 s. */
const WEIXIN_REPLY_WINDOW_MS = 5_000;

const replyParser = new XMLParser({ parseTagValue: false, ignoreAttributes: true });

interface Reply {
  status: number;
  raw: string;
  ms: number;
  xml: Record<string, any>;
}

type Delivered = FakeDelivery & { ms: number };

function messageXml(fields: Record<string, string>): string {
  const body = Object.entries({
    ToUserName: ACCOUNT,
    FromUserName: USER,
    CreateTime: String(Math.floor(Date.now() / 1000)),
    MsgId: '24123456789012345678',
    ...fields,
  })
    .map(([name, value]) =>
      name === 'CreateTime' ? `<${name}>${value}</${name}>` : `<${name}><![CDATA[${value}]]></${name}>`,
    )
    .join('');
  return `<xml>${body}</xml>`;
}

describe('sample: Weixin message callback', () => {
  let sample: SampleApp;
  let fake: FakeWeixinServer;
  let callback: string;

  before(async () => {
    sample = await startSampleApp();
    assert.ok(sample.fake, 'without WEIXIN_APP_ID the sample runs on its embedded fake');
    fake = sample.fake;
    callback = `${sample.url}/weixin/callback`;
  });
  after(() => sample?.close());
  afterEach(() => fake.clearFaults());

  async function post(xml: string, query = signedCallbackQuery({ openid: USER })): Promise<Reply> {
    const started = performance.now();
    const response = await fetch(`${callback}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: xml,
    });
    const raw = await response.text();
    const ms = performance.now() - started;
    const parsed = response.ok ? (replyParser.parse(raw, true) as { xml: Record<string, any> }).xml : {};
    return { status: response.status, raw, ms, xml: parsed };
  }

  /** The message as Weixin posts it (signed, one try): its reply read back flat. */
  async function deliver(fields: Record<string, string>): Promise<Delivered> {
    const started = performance.now();
    const message = { ToUserName: ACCOUNT, FromUserName: USER, MsgType: 'text', ...fields };
    const delivery = await fake.deliver(callback, message, { token: SAMPLE_CALLBACK_TOKEN, tries: 1 });
    return { ...delivery, ms: performance.now() - started };
  }

  function assertAddressedBack(delivery: Delivered): NonNullable<FakeDelivery['reply']> {
    assert.equal(delivery.status, 200);
    assert.ok(delivery.ms < WEIXIN_REPLY_WINDOW_MS, `replied in ${delivery.ms.toFixed(0)} ms`);
    const reply = delivery.reply;
    assert.ok(reply, 'a passive reply');
    assert.equal(reply.ToUserName, USER);
    assert.equal(reply.FromUserName, ACCOUNT);
    assert.ok(Math.abs(reply.CreateTime - Date.now() / 1000) < 10, 'CreateTime is now, in seconds');
    return reply;
  }

  describe('GET (the server check when the URL is saved)', () => {
    it('echoes echostr when the signature is right', async () => {
      const response = await fetch(`${callback}?${signedCallbackQuery({ echostr: '7249331651852367781' })}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await response.text(), '7249331651852367781');
    });

    it('answers 401 for a wrong, a foreign or a missing signature', async () => {
      const wrong = signedCallbackQuery({ echostr: 'e' });
      wrong.set('signature', '0'.repeat(40));
      const foreign = signedCallbackQuery({ echostr: 'e' }, 'some-other-token');
      const missing = new URLSearchParams({ timestamp: '1700000000', nonce: '1', echostr: 'e' });
      for (const query of [wrong, foreign, missing]) {
        const response = await fetch(`${callback}?${query}`);
        assert.equal(response.status, 401, query.toString());
        assert.notEqual(await response.text(), 'e');
      }
    });
  });

  describe('POST (messages)', () => {
    it('answers 401 to a message with a bad signature, without touching Weixin', async () => {
      const before = fake.countRequests();
      const query = signedCallbackQuery({ openid: USER }, 'not-the-token');
      const reply = await post(messageXml({ MsgType: 'text', Content: 'image' }), query);
      assert.equal(reply.status, 401);
      assert.equal(fake.countRequests(), before);
    });

    const samples = [
      { keyword: 'image', type: 'image', asset: 'welcome.jpg' },
      { keyword: 'voice', type: 'voice', asset: 'welcome.amr' },
      { keyword: ' Video ', type: 'video', asset: 'welcome.mp4' },
    ] as const;
    for (const { keyword, type, asset } of samples) {
      it(`replies to "${keyword.trim()}" with a ${type} message whose MediaId Weixin holds`, async () => {
        const reply = assertAddressedBack(await deliver({ MsgType: 'text', Content: keyword }));
        assert.equal(reply.MsgType, type);
        const mediaId = reply.MediaId;
        assert.ok(typeof mediaId === 'string' && mediaId.length > 0, JSON.stringify(reply));
        const stored = fake.getMedia(mediaId);
        assert.ok(stored, 'the fake holds the media_id of the reply');
        assert.equal(stored.type, type);
        assert.ok(
          stored.data.equals(readFileSync(join(REPO_ROOT, 'sample/assets', asset))),
          'the bundled file was uploaded',
        );
        if (type === 'video') {
          assert.ok(reply.Title, 'a video reply has a title');
          assert.match(reply.Description ?? '', /media_id works until \d{4}-/);
        }
      });
    }

    it('reuses the media_id when asked again, and understands the Chinese keyword', async () => {
      const first = assertAddressedBack(await deliver({ MsgType: 'text', Content: 'image' }));
      const uploads = fake.countRequests(UPLOAD);
      const second = assertAddressedBack(await deliver({ MsgType: 'text', Content: '图片' }));
      assert.equal(second.MediaId, first.MediaId);
      assert.equal(fake.countRequests(UPLOAD), uploads, 'no second upload');
    });

    it('describes an incoming image after downloading it by its MediaId', async () => {
      const media = sample.app.get(TemporaryMediaService);
      const { mediaId } = await media.uploadImage(mediaFixture('image.jpg'), { reuse: false });
      const downloads = fake.countRequests(DOWNLOAD);
      const reply = assertAddressedBack(
        await deliver({ MsgType: 'image', PicUrl: 'http://mmbiz.qpic.cn/x', MediaId: mediaId }),
      );
      assert.equal(reply.MsgType, 'text');
      assert.equal(reply.Content, 'Got your image: JPEG, 15629 bytes.');
      assert.equal(fake.countRequests(DOWNLOAD), downloads + 1);
    });

    for (const { fixture, format, bytes } of [
      { fixture: 'voice-speech.amr', format: 'AMR', bytes: 2231 },
      { fixture: 'voice-speech.mp3', format: 'MP3', bytes: 15169 },
    ]) {
      it(`describes an incoming ${format} voice message with its bytes and duration`, async () => {
        const media = sample.app.get(TemporaryMediaService);
        const { mediaId } = await media.uploadVoice(mediaFixture(fixture), { reuse: false });
        const reply = assertAddressedBack(
          await deliver({ MsgType: 'voice', MediaId: mediaId, Format: 'amr' }),
        );
        assert.equal(reply.MsgType, 'text');
        // The duration is the library's measurement (its own tests hold it to the fixtures' true length).
        const { durationMs } = await media.inspect('voice', mediaFixture(fixture));
        const seconds = (durationMs! / 1000).toFixed(1);
        const described = `Got your voice message: ${format}, ${bytes} bytes, ${seconds} s.`;
        // Then the voice as speech-to-text gets it: decoded by ffmpeg to 16 kHz mono WAV, 2 bytes a sample.
        const decoded =
          /^ Decoded for speech recognition: (\d+\.\d\d) s of 16 kHz WAV \((\d+) bytes\)\.$/.exec(
            (reply.Content ?? '').slice(described.length),
          );
        assert.ok(reply.Content?.startsWith(described) && decoded, reply.Content);
        // The decoder's count (frames it decodes) may differ a little from the rules' frame walk.
        assert.ok(Math.abs(Number(decoded[1]) * 1000 - durationMs!) <= durationMs! * 0.1, reply.Content);
        assert.ok(Math.abs(Number(decoded[2]) - 44 - Number(decoded[1]) * 32_000) <= 32 * 20, reply.Content);
      });
    }

    it('says so in a text when the MediaId is unknown (no error status for Weixin)', async () => {
      const reply = assertAddressedBack(await deliver({ MsgType: 'image', MediaId: 'no-such-media-id' }));
      assert.equal(reply.MsgType, 'text');
      assert.match(reply.Content ?? '', /40007/);
    });

    it('answers anything else with the help text', async () => {
      const others: Array<Record<string, string>> = [
        { MsgType: 'text', Content: 'hello' },
        { MsgType: 'text', Content: 'constructor' },
        { MsgType: 'event', Event: 'subscribe' },
        { MsgType: 'location', Location_X: '23.1', Location_Y: '113.3' },
      ];
      for (const fields of others) {
        const reply = assertAddressedBack(await deliver(fields));
        assert.equal(reply.MsgType, 'text');
        assert.match(reply.Content ?? '', /Send "image", "voice" or "video"/, JSON.stringify(fields));
      }
    });

    it('still replies within 5 s when Weixin hangs', async () => {
      const media = sample.app.get(TemporaryMediaService);
      const { mediaId } = await media.uploadImage(mediaFixture('image.png'), { reuse: false });
      fake.injectFault({ path: DOWNLOAD, delayMs: 20_000, times: 5 });
      const reply = assertAddressedBack(await deliver({ MsgType: 'image', MediaId: mediaId }));
      assert.equal(reply.MsgType, 'text');
      assert.match(reply.Content ?? '', /did not answer within 4 s/);
    });

    it('answers 400 to a signed body that is not a plain-mode message', async () => {
      const before = fake.countRequests();
      for (const body of [
        '<xml><ToUserName>gh</ToUserName>',
        'not xml at all',
        '<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>',
        '',
      ]) {
        const reply = await post(body);
        assert.equal(reply.status, 400, `${JSON.stringify(body)} -> ${reply.raw}`);
        assert.equal(fake.countRequests(), before);
      }
      const encrypted = await post(
        '<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>',
      );
      assert.match(encrypted.raw, /plain mode/);
    });

    it('answers 413 to a body far larger than any message', async () => {
      const reply = await post(messageXml({ MsgType: 'text', Content: 'x'.repeat(100_000) }));
      assert.equal(reply.status, 413);
    });
  });
});

describe('sample: with WEIXIN_APP_ID set (a real Official Account)', () => {
  let weixin: FakeWeixinServer;
  before(async () => {
    // Stands in for api.weixin.qq.com, with credentials of its own.
    weixin = await FakeWeixinServer.start({
      appId: 'wx1234567890abcdef',
      appSecret: 'a-real-looking-secret',
    });
  });
  after(() => weixin.close());

  it('talks to the configured Weixin API with the given credentials and WEIXIN_TOKEN', async () => {
    const sample = await startSampleApp({
      WEIXIN_APP_ID: 'wx1234567890abcdef',
      WEIXIN_APP_SECRET: 'a-real-looking-secret',
      WEIXIN_API_BASE_URL: weixin.baseUrl,
      WEIXIN_TOKEN: 'myAccountToken42',
      SAMPLE_UPLOAD_TOKEN: 'chosen-upload-token',
    });
    try {
      assert.equal(sample.fake, undefined, 'no embedded fake');
      assert.equal(sample.uploadToken, 'chosen-upload-token');
      const xml = messageXml({ MsgType: 'text', Content: 'image' });
      const url = `${sample.url}/weixin/callback`;
      const post = (query: URLSearchParams) =>
        fetch(`${url}?${query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml });

      const withDefaultToken = await post(signedCallbackQuery());
      assert.equal(withDefaultToken.status, 401, 'the default token no longer signs');
      const response = await post(signedCallbackQuery({}, 'myAccountToken42'));
      assert.equal(response.status, 200);
      const reply = (replyParser.parse(await response.text()) as { xml: Record<string, any> }).xml;
      assert.ok(weixin.getMedia(reply.Image.MediaId), 'uploaded to the configured Weixin API');
    } finally {
      await sample.close();
    }
  });

  it('fails to start with one error that names the missing secret', async () => {
    await assert.rejects(
      startSampleApp({ WEIXIN_APP_ID: 'wx1234567890abcdef', WEIXIN_API_BASE_URL: weixin.baseUrl }),
      /WEIXIN_APP_SECRET/,
    );
  });

  it('refuses a PORT that is not a port', async () => {
    await assert.rejects(startSampleApp({ PORT: 'eighty' }), /PORT must be a whole number/);
  });
});

describe('sample: safe mode with WEIXIN_ENCODING_AES_KEY', () => {
  let sample: SampleApp;
  before(async () => {
    sample = await startSampleApp({ WEIXIN_ENCODING_AES_KEY: AES_KEY });
  });
  after(() => sample?.close());

  it('takes encrypted messages and answers encrypted replies', async () => {
    const fake = sample.fake!;
    const delivery = await fake.deliver(
      `${sample.url}/weixin/callback`,
      { MsgType: 'text', Content: 'image', FromUserName: USER, ToUserName: ACCOUNT },
      { mode: 'safe', token: SAMPLE_CALLBACK_TOKEN, encodingAESKey: AES_KEY, tries: 1 },
    );
    assert.equal(delivery.status, 200);
    assert.equal(delivery.reply?.MsgType, 'image');
    assert.ok(fake.getMedia(delivery.reply!.MediaId!), 'the fake holds the media_id of the reply');
  });

  it('refuses a plain request: the account chose encryption', async () => {
    const response = await fetch(`${sample.url}/weixin/callback?${signedCallbackQuery({ openid: USER })}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: messageXml({ MsgType: 'text', Content: 'image' }),
    });
    assert.equal(response.status, 401);
  });
});
