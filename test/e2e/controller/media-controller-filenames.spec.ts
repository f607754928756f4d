import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { assertWeixinError, describeBadInput, JPEG, raw, UPLOAD } from '../../support/controller-bad-input';
import { multipartBody, multipartContentType, rawRequest } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

describeBadInput('media controller: hostile filenames', (t) => {
  describe('filenames', () => {
    /** An upload of a valid JPEG under a hostile name: accepted, with a safe name sent to Weixin. */
    async function uploadNamed(filename: Buffer | string): Promise<string> {
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType() },
        body: multipartBody([{ name: 'media', filename, contentType: 'image/jpeg', data: JPEG }]),
      });
      t.statuses.push(res.status);
      assert.equal(res.status, 201, res.body);
      assert.equal(typeof res.json?.media_id, 'string');
      // The last one: t.fake.reset() dropped the app's cached token, so the first try may have been refused 40001.
      const sent = t.fake.requests.filter((r) => r.path === UPLOAD && r.status === 200).at(-1);
      assert.ok(sent, 'the upload reached Weixin');
      const name = sent.filename!;
      assert.doesNotMatch(name, /[\r\n"\\/\u0000-\u001f]/, `sent as ${JSON.stringify(name)}`);
      assert.match(name, /\.jpg$/);
      // And the download's disposition stays a single safe header.
      const download = await request(t.ctx.url).get(`/weixin/media/${res.json!.media_id}`);
      assert.equal(download.status, 200);
      assert.doesNotMatch(String(download.headers['content-disposition']), /[\r\n]/);
      return name;
    }

    it('../ in the filename: only the base name is kept, nothing is written outside the temp dir', async () => {
      const name = await uploadNamed('../../../../../../tmp/pwned.jpg');
      assert.equal(name, 'pwned.jpg');
      assert.ok(!existsSync(join(dirname(t.ctx.uploadDir), 'pwned.jpg')));
    });

    it('..\\ Windows paths: only the base name is kept', async () => {
      assert.equal(await uploadNamed('..\\..\\windows\\evil.jpg'), 'evil.jpg');
    });

    it('CRLF escaped the WHATWG way (%0D%0A) cannot inject a header', async () => {
      const name = await uploadNamed('evil%0D%0AContent-Type: text/html%0D%0A%0D%0A<script>.jpg');
      assert.doesNotMatch(name, /\r|\n/);
    });

    it('a raw CR LF inside the quoted filename is not a header break for Weixin', async () => {
      // The part header then reads `filename="a` + a stray line; busboy keeps what it can, or refuses the form.
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType() },
        body: multipartBody([
          { name: 'media', filename: 'a\r\nX-Evil: 1\r\nb.jpg', contentType: 'image/jpeg', data: JPEG },
        ]),
      });
      t.statuses.push(res.status);
      assert.ok([201, 400].includes(res.status), res.body);
      for (const sent of t.fake.requests.filter((r) => r.path === UPLOAD)) {
        assert.doesNotMatch(sent.filename ?? '', /[\r\n]/);
      }
    });

    it('quotes are dropped', async () => {
      assert.equal(await uploadNamed('a%22b%22c.jpg'), 'abc.jpg');
    });

    it('a raw control character in the part header: refused or dropped, never a 5xx', async () => {
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType() },
        body: multipartBody([
          { name: 'media', filename: 'a\u0007\u0000b.jpg', contentType: 'image/jpeg', data: JPEG },
        ]),
      });
      t.statuses.push(res.status);
      assert.ok([201, 400].includes(res.status), res.body);
      if (res.status === 400) assertWeixinError(raw(res), 400, 41005);
      for (const sent of t.fake.requests.filter((r) => r.path === UPLOAD)) {
        assert.doesNotMatch(sent.filename ?? '', /[\u0000-\u001f]/);
      }
    });

    it('a UTF-8 name arrives intact', async () => {
      const name = await uploadNamed(Buffer.from('照片 2024.jpg', 'utf8'));
      assert.equal(name, '照片 2024.jpg');
    });

    it('a GBK (non-UTF-8) name is accepted and sent well-formed', async () => {
      const gbk = Buffer.concat([Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from('.jpg')]); // 你好 in GBK
      const name = await uploadNamed(gbk);
      assert.equal(Buffer.from(name, 'utf8').toString('utf8'), name);
    });

    it('a Latin-1 byte and an invalid UTF-8 sequence are accepted', async () => {
      await uploadNamed(
        Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from('.jpg')]),
      );
    });

    it('no extension, a PHP temp name, or no name: the extension comes from the content', async () => {
      assert.equal(await uploadNamed('phpA1B2'), 'phpA1B2.jpg');
    });

    it('PNG bytes named .jpg are sent as .png', async () => {
      const res = await t.post('?type=image').attach('media', mediaFixture('spoof-png-named.jpg'));
      t.statuses.push(res.status);
      assert.equal(res.status, 201);
      assert.equal(t.fake.requests.filter((r) => r.path === UPLOAD).at(-1)?.filename, 'spoof-png-named.png');
    });
  });
});
