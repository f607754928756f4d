import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TEXT_BYTES, MessageValidationError, WeixinApiError, type CustomMessage } from '../../../lib';
import { weixinErrorResponse } from '../../../lib/errors/weixin-error-response';
import {
  assertMessage,
  assertOpenId,
  assertSendOptions,
  isMediaRef,
} from '../../../lib/messages/message-validation';

function refused(check: () => void, reason: string, field: string, message: RegExp): void {
  assert.throws(check, (error: unknown) => {
    assert.ok(error instanceof MessageValidationError, String(error));
    assert.equal(error.reason, reason);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
}

describe('message validation', () => {
  it('openIds: letters, digits, - and _, 1 to 64 of them', () => {
    assertOpenId('oABC-_0123456789abcdefghijkl');
    refused(() => assertOpenId(''), 'invalid-openid', 'openId', /got an empty string/);
    refused(() => assertOpenId(undefined), 'invalid-openid', 'openId', /got undefined/);
    refused(() => assertOpenId('o user'), 'invalid-openid', 'openId', /is not an openid/);
    refused(() => assertOpenId('x'.repeat(65)), 'invalid-openid', 'openId', /1-64 letters/);
    refused(() => assertOpenId('o\u0000\n'), 'invalid-openid', 'openId', /"o\?\?"/);
  });

  it(`text: 1 to ${MAX_TEXT_BYTES} bytes of UTF-8, counted in bytes`, () => {
    assertMessage({ msgtype: 'text', content: 'a'.repeat(MAX_TEXT_BYTES) });
    assertMessage({ msgtype: 'text', content: '好'.repeat(682) });
    assert.throws(
      () => assertMessage({ msgtype: 'text', content: '好'.repeat(683) }),
      (error: MessageValidationError) =>
        error.reason === 'text-too-long' &&
        error.limit === 2048 &&
        error.actual === 2049 &&
        error.errcode === 45002,
    );
    refused(() => assertMessage({ msgtype: 'text', content: '' }), 'empty-text', 'content', /needs content/);
  });

  it('msgtype, media, music and kfAccount', () => {
    refused(() => assertMessage({ msgtype: 'link' } as never), 'unknown-msgtype', 'msgtype', /"link"/);
    refused(() => assertMessage(null as never), 'unknown-msgtype', 'msgtype', /got undefined/);
    refused(() => assertMessage({ msgtype: 'image' } as never), 'missing-field', 'image', /needs image/);
    refused(
      () => assertMessage({ msgtype: 'voice', voice: { mediaId: '' } }),
      'invalid-field',
      'voice',
      /voice\.mediaId must be a media_id/,
    );
    const music = { msgtype: 'music', thumb: { mediaId: 'THUMB' } } as const;
    refused(() => assertMessage(music as never), 'missing-field', 'musicUrl', /needs musicUrl/);
    refused(
      () => assertMessage({ ...music, musicUrl: 'file:///etc/passwd' }),
      'invalid-field',
      'musicUrl',
      /http or https URL/,
    );
    refused(
      () => assertMessage({ ...music, musicUrl: 'https://a.example/x.mp3', hqMusicUrl: 'nope' }),
      'invalid-field',
      'hqMusicUrl',
      /http or https URL/,
    );
    refused(
      () => assertMessage({ msgtype: 'music', musicUrl: 'https://a.example/x.mp3' } as CustomMessage),
      'missing-field',
      'thumb',
      /needs thumb/,
    );
    refused(
      () => assertMessage({ msgtype: 'video', video: { mediaId: 'V' }, title: 3 } as never),
      'invalid-field',
      'title',
      /title must be a string/,
    );
    assertSendOptions({ kfAccount: 'kf2001@gh_123' });
    refused(
      () => assertSendOptions({ kfAccount: 'kf 2001' }),
      'invalid-field',
      'kfAccount',
      /name@weixin-id/,
    );
    assert.equal(isMediaRef({ mediaId: 'x' }), true);
    assert.equal(isMediaRef(Buffer.from('x')), false);
  });

  it('answers 400 with the errcode Weixin would have answered', () => {
    const error = new MessageValidationError('invalid-openid', 'openId must be ...');
    assert.deepEqual(weixinErrorResponse(error), {
      status: 400,
      body: { errcode: 40003, errmsg: 'openId must be ...' },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(error)).code, 'WEIXIN_MEDIA_ERR_MESSAGE_VALIDATION');
  });

  it('hints for the sending codes', () => {
    const send = '/cgi-bin/message/custom/send';
    assert.match(new WeixinApiError(45015, 'response out of time limit', send).hint!, /template message/);
    assert.match(new WeixinApiError(45047, 'out of response count limit', send).hint!, /do not retry/);
    assert.match(new WeixinApiError(40003, 'invalid openid', send).hint!, /forAccount\(appId\)/);
    assert.match(new WeixinApiError(45080, 'x', '/cgi-bin/message/custom/typing').hint!, /30 seconds/);
    assert.match(new WeixinApiError(45072, 'x', '/cgi-bin/message/custom/typing').hint!, /CancelTyping/);
  });
});
