import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { SampleApp } from '../../../sample/sample-app';
import { mediaFixture } from '../../support/paths';
import { signedCallbackQuery, startSampleApp } from '../../support/sample-app';

/** `SAMPLE_ADAPTER=fastify`: the same sample, its page, its media controller and its callback, on Fastify. */
describe('sample on Fastify (SAMPLE_ADAPTER=fastify)', () => {
  let sample: SampleApp;

  before(async () => {
    sample = await startSampleApp({ SAMPLE_ADAPTER: 'fastify' });
  });
  after(() => sample?.close());

  it('runs on Fastify and serves the upload page and its rules', async () => {
    assert.equal(sample.adapter, 'fastify');
    assert.equal(sample.app.getHttpAdapter().getType(), 'fastify');
    const page = await fetch(`${sample.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const rules = await fetch(`${sample.url}/rules`);
    assert.equal(((await rules.json()) as { mediaPath: string }).mediaPath, 'weixin/media');
  });

  it('uploads through the media controller behind the upload token, and downloads it back', async () => {
    const form = new FormData();
    form.append(
      'media',
      new Blob([readFileSync(mediaFixture('image.jpg'))], { type: 'image/jpeg' }),
      'a.jpg',
    );
    const refused = await fetch(`${sample.url}/weixin/media?type=image`, { method: 'POST', body: form });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { errcode: number }).errcode, 401);
    const res = await fetch(`${sample.url}/weixin/media?type=image`, {
      method: 'POST',
      body: form,
      headers: { 'x-upload-token': sample.uploadToken },
    });
    const body = (await res.json()) as { media_id: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    const download = await fetch(`${sample.url}/weixin/media/${body.media_id}`, {
      headers: { 'x-upload-token': sample.uploadToken },
    });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'image/jpeg');
  });

  it('answers a signed text message on the callback', async () => {
    const xml =
      '<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>' +
      `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
      '<Content><![CDATA[hello]]></Content><MsgId>1</MsgId></xml>';
    const res = await fetch(`${sample.url}/weixin/callback?${signedCallbackQuery({ openid: 'oUser' })}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: xml,
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text, /<ToUserName><!\[CDATA\[oUser\]\]><\/ToUserName>/);
  });

  it('fits a raw WAV body on /fit-upload, streaming progress lines and then the result', async () => {
    const wav = readFileSync(mediaFixture('voice-speech.wav'));
    const res = await fetch(`${sample.url}/fit-upload?type=voice`, {
      method: 'POST',
      body: wav,
      headers: {
        'content-type': 'application/octet-stream',
        'x-filename': 'speech.wav',
        'x-upload-token': sample.uploadToken,
      },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as Record<string, { phase?: string; fitted?: { from: string; to: string } }>,
      );
    const phases = new Set(lines.filter((line) => line.progress).map((line) => line.progress.phase));
    assert.deepEqual([...phases], ['fit', 'upload']);
    const { result } = lines.at(-1)!;
    assert.equal(result.fitted?.from, 'wav');
    assert.equal(result.fitted?.to, 'mp3');
  });
});
