import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeBadInput, JPEG, MB, raw } from '../../support/controller-bad-input';
import { multipartBody, multipartContentType, rawRequest } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

describeBadInput('media controller: bad type and form shape', (t) => {
  describe('type', () => {
    it('missing (no query, no form field): 400 40004', () =>
      t.refused(() => t.post().attach('media', mediaFixture('image.jpg')), 400, 40004, /type is missing/));

    for (const type of [
      'document',
      'IMAGE',
      '',
      '../x',
      '..%2F..%2Fetc%2Fpasswd',
      'image%00',
      'image/../voice',
    ]) {
      it(`?type=${type}: 400 40004`, () =>
        t.refused(
          () => t.post(`?type=${type}`).attach('media', mediaFixture('image.jpg')),
          400,
          40004,
          /not a Weixin media type|the media type is missing/,
        ));
    }

    it('?type given twice: 400 40004', () =>
      t.refused(
        () => t.post('?type=image&type=video').attach('media', mediaFixture('image.jpg')),
        400,
        40004,
      ));

    it('unknown type in the form field: 400 40004', () =>
      t.refused(
        () => t.post().field('type', '../image').attach('media', mediaFixture('image.jpg')),
        400,
        40004,
      ));

    it('the query and the form disagree: 400 40004', () =>
      t.refused(
        () => t.post('?type=image').field('type', 'voice').attach('media', mediaFixture('image.jpg')),
        400,
        40004,
      ));

    it('an unknown type is refused before a byte of the body is read', async () => {
      // Announces 10 MB and sends none of it: the answer must not wait for the body.
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=../../x',
        headers: { 'content-type': multipartContentType(), 'content-length': 10 * MB },
        end: false,
      });
      await t.refused(async () => raw(res), 400, 40004);
      assert.equal(res.bytesSent, 0);
    });
  });

  describe('form shape', () => {
    it('no file, only the type field: 400 41005', () =>
      t.refused(
        () => t.post('?type=image').field('type', 'image'),
        400,
        41005,
        /no file in the form field "media"/,
      ));

    it('an empty form: 400 41005', () =>
      t.refused(
        () =>
          rawRequest(t.ctx.port, {
            path: '/weixin/media?type=image',
            headers: { 'content-type': multipartContentType() },
            body: Buffer.from('--weixinTestBoundary7MA4YWxk--\r\n'),
          }).then(raw),
        400,
        41005,
      ));

    it('the file in the wrong field: 400 41005 naming the field', () =>
      t.refused(
        () => t.post('?type=image').attach('file', mediaFixture('image.jpg')),
        400,
        41005,
        /"media", not in "file"/,
      ));

    it('media sent as text, not a file: 400 41005', () =>
      t.refused(() => t.post('?type=image').field('media', 'not a file'), 400, 41005, /must be a file/));

    it('two files in media: 400 41005', () =>
      t.refused(
        () =>
          t
            .post('?type=image')
            .attach('media', mediaFixture('image.jpg'))
            .attach('media', mediaFixture('image.png')),
        400,
        41005,
        /exactly one file/,
      ));

    it('extra fields: 400 41005 naming the field', () =>
      t.refused(
        () => t.post('?type=image').field('title', 'hello').attach('media', mediaFixture('image.jpg')),
        400,
        41005,
        /unexpected form field "title"/,
      ));

    it('an extra field after the file: 400 41005', () =>
      t.refused(
        () => t.post('?type=image').attach('media', mediaFixture('image.jpg')).field('description', 'x'),
        400,
        41005,
      ));

    it('a type field value past the field size limit: 400 41005', () =>
      t.refused(
        () => t.post().field('type', 'x'.repeat(5000)).attach('media', mediaFixture('image.jpg')),
        400,
        41005,
      ));

    it('a field name past the limit: 400 41005', () =>
      t.refused(
        () => t.post('?type=image').field('f'.repeat(500), 'x').attach('media', mediaFixture('image.jpg')),
        400,
        41005,
      ));

    it('many parts: 400 41005', () => {
      const parts = Array.from({ length: 50 }, () => ({ name: 'type', data: 'image' }));
      return t.refused(
        () =>
          rawRequest(t.ctx.port, {
            path: '/weixin/media?type=image',
            headers: { 'content-type': multipartContentType() },
            body: multipartBody(parts),
          }).then(raw),
        400,
        41005,
      );
    });

    it('a part with 100 header lines: only the first 16 are parsed, the rest is ignored', async () => {
      const headers = Array.from({ length: 100 }, (_, i) => `X-Pad-${i}: ${i}`).join('\r\n');
      const body = Buffer.concat([
        Buffer.from(
          `--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n${headers}\r\n\r\n`,
        ),
        JPEG,
        Buffer.from('\r\n--b--\r\n'),
      ]);
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType('b') },
        body,
      });
      t.statuses.push(res.status);
      assert.equal(res.status, 201, res.body);
    });
  });
});
