import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { readCallbackBody } from '../../../lib/callback/callback-body.reader';
import { CallbackRefusedError } from '../../../lib/errors/callback-refused.error';

const XML = '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Content><![CDATA[你好]]></Content></xml>';

/** A request as Node's HTTP server hands it over, its body not yet read. */
function request(contentLength: number | undefined): IncomingMessage {
  const message = new IncomingMessage(new Socket());
  message.headers = contentLength === undefined ? {} : { 'content-length': String(contentLength) };
  return message;
}

describe('readCallbackBody', () => {
  it('takes a body that came in whole with the headers as it is, without listening for more', async () => {
    const bytes = Buffer.from(XML);
    const message = request(bytes.length);
    message.push(bytes);
    assert.equal(await readCallbackBody(message, undefined), XML);
    assert.equal(message.listenerCount('data'), 0);
  });

  it('reads a body that is still arriving, in as many chunks as it comes', async () => {
    const bytes = Buffer.from(XML);
    const message = request(bytes.length);
    message.push(bytes.subarray(0, 10));
    const body = readCallbackBody(message, undefined);
    setImmediate(() => {
      message.push(bytes.subarray(10));
      message.push(null);
    });
    assert.equal(await body, XML);
  });

  it('refuses a declared length over the limit before reading, and bytes that are not UTF-8', async () => {
    await assert.rejects(readCallbackBody(request(70_000), undefined), (error: CallbackRefusedError) => {
      return error.reason === 'too-large' && error.status === 413;
    });
    const message = request(2);
    message.push(Buffer.from([0xc3, 0x28]));
    await assert.rejects(readCallbackBody(message, undefined), (error: CallbackRefusedError) => {
      return error.reason === 'xml' && /not UTF-8/.test(error.message);
    });
  });

  it('takes text an app parser already read, counting only text that could be over the limit', async () => {
    assert.equal(await readCallbackBody(request(undefined), XML), XML);
    const limits = { maxBytes: 10, timeoutMs: 1_000 };
    await assert.rejects(readCallbackBody(request(undefined), '你好你好', limits), /12 bytes/);
  });
});
