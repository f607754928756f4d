import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import busboy from 'busboy';
import type { MediaChunks } from '../../../lib/media-rules/media-content';
import { multipartBody } from '../../../lib/weixin-api/multipart-body';

/** Parses a body as a server would (busboy, as multer does): the one file part, its name and bytes. */
async function parse(
  contentType: string,
  body: Buffer,
): Promise<{ field: string; filename: string; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const parser = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8' });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve({ field, filename: info.filename ?? '', data: Buffer.concat(chunks) }));
    });
    parser.on('error', reject);
    parser.end(body);
  });
}

async function drain(body: Buffer[] | MediaChunks): Promise<Buffer> {
  if (Array.isArray(body)) return Buffer.concat(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk)); // a copy: the reader may reuse its memory
  return Buffer.concat(chunks);
}

/** `data` in chunks of `size`, as a file read by position gives it. */
async function* chunked(data: Buffer, size: number): MediaChunks {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

describe('multipartBody', () => {
  const file = randomBytes(300_000);

  it('encodes content in memory as pieces of exactly Content-Length bytes, the content itself not copied', async () => {
    const multipart = multipartBody({
      field: 'media',
      filename: 'photo.jpg',
      contentType: 'image/jpeg',
      size: file.length,
      data: file,
    });
    const pieces = multipart.body();
    assert.ok(Array.isArray(pieces));
    assert.ok(pieces.includes(file), 'the content is one of the pieces, as it is');
    const body = Buffer.concat(pieces);
    assert.equal(body.length, multipart.contentLength);
    const part = await parse(multipart.contentType, body);
    assert.deepEqual([part.field, part.filename], ['media', 'photo.jpg']);
    assert.ok(part.data.equals(file));
  });

  it('streams a file in chunks, header and closing boundary included, a fresh body for every try', async () => {
    let opened = 0;
    const multipart = multipartBody({
      field: 'media',
      filename: 'photo.jpg',
      contentType: 'image/jpeg',
      size: file.length,
      open: () => (opened++, chunked(file, 65_536)),
    });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const body = await drain(multipart.body());
      assert.equal(body.length, multipart.contentLength);
      assert.ok((await parse(multipart.contentType, body)).data.equals(file));
      assert.equal(opened, attempt);
    }
  });

  it('writes a file read in one chunk as one chunk', async () => {
    const small = randomBytes(1000);
    const multipart = multipartBody({
      field: 'media',
      filename: 'thumb.jpg',
      contentType: 'image/jpeg',
      size: small.length,
      open: () => chunked(small, small.length),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of multipart.body() as MediaChunks) chunks.push(chunk);
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0].length, multipart.contentLength);
  });

  it('keeps UTF-8 names and percent-encodes quotes and line breaks, so no header can be injected', async () => {
    const multipart = multipartBody({
      field: 'media',
      filename: '相片 "a"\r\nX-Evil: 1.jpg',
      contentType: 'image/jpeg',
      size: 3,
      data: Buffer.from('abc'),
    });
    const body = await drain(multipart.body());
    assert.equal(body.length, multipart.contentLength);
    assert.equal((await parse(multipart.contentType, body)).filename, '相片 %22a%22%0D%0AX-Evil: 1.jpg');
  });

  it('fails the body, never sends a short one, when the file ends before its measured size', async () => {
    const multipart = multipartBody({
      field: 'media',
      filename: 'photo.jpg',
      contentType: 'image/jpeg',
      size: file.length,
      open: () => chunked(file.subarray(0, 100_000), 65_536),
    });
    await assert.rejects(
      drain(multipart.body()),
      /the file ended at 100000 of 300000 bytes while it was sent/,
    );
  });
});
