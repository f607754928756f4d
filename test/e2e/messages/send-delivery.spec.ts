import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { follow, messagesOf, SEND, TYPING, UPLOAD } from '../../support/messages';
import { mediaFixture } from '../../support/paths';

const USER = 'oUser0000000000000000000002';
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Asserts `error` is Weixin's refusal `errcode` with a hint matching `hint`. */
function refusal(errcode: number, hint: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof WeixinApiError, String(error));
    assert.equal(error.errcode, errcode);
    assert.match(error.hint ?? '', hint);
    return true;
  };
}

describe('WeixinMessageService: at most once', () => {
  const weixin = fakeWeixinPerTest();

  it('a send that times out after Weixin recorded it rejects with maybeDelivered and is recorded once', async () => {
    const messages = messagesOf(await weixin.module({ timeoutMs: 300 }));
    follow(weixin.fake, USER);
    weixin.fake.injectFault({ path: SEND, delayMs: 2_000 });
    await assert.rejects(messages.sendText(USER, 'only once'), (error: unknown) => {
      assert.ok(error instanceof WeixinNetworkError, String(error));
      assert.equal(error.maybeDelivered, true);
      assert.equal(error.timedOut, true);
      return true;
    });
    assert.equal(weixin.fake.countRequests(SEND), 1);
    assert.deepEqual(
      weixin.fake.sentMessages({ openId: USER }).map((sent) => sent.message),
      [{ content: 'only once' }],
    );
  });

  for (const [name, fault] of [
    ['a reset', { reset: true }],
    ['an HTTP 502', { status: 502 }],
  ] as const) {
    it(`${name} after the request was written rejects with maybeDelivered and is never sent again`, async () => {
      const messages = messagesOf(await weixin.module());
      follow(weixin.fake, USER);
      weixin.fake.injectFault({ path: SEND, ...fault });
      await assert.rejects(messages.sendImage(USER, mediaFixture('image.jpg')), (error: unknown) => {
        assert.ok(error instanceof WeixinNetworkError, String(error));
        assert.equal(error.maybeDelivered, true);
        return true;
      });
      assert.equal(weixin.fake.countRequests(SEND), 1);
      assert.equal(weixin.fake.sentMessages().length, 1);
    });
  }

  it('-1 (Weixin did not act) is tried again and delivered once', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    weixin.fake.injectFault({ path: SEND, errcode: -1 });
    await messages.sendText(USER, 'after a busy moment');
    assert.equal(weixin.fake.countRequests(SEND), 2);
    assert.equal(weixin.fake.sentMessages().length, 1);
  });

  it('a rejected token is refreshed and the message sent once', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    await messages.sendText(USER, 'warm up');
    weixin.fake.expireAllTokens();
    await messages.sendText(USER, 'with a new token');
    assert.equal(weixin.fake.countRequests(SEND), 3);
    assert.deepEqual(
      weixin.fake.sentMessages().map((sent) => sent.message.content),
      ['warm up', 'with a new token'],
    );
  });
});

describe('WeixinMessageService: refusals are never retried and say what to do', () => {
  const weixin = fakeWeixinPerTest();

  it('45015: the 48-hour window has closed', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER, 48 * HOUR + 1);
    await assert.rejects(
      messages.sendText(USER, 'late'),
      refusal(45015, /template message or a subscribe message/),
    );
    assert.equal(weixin.fake.countRequests(SEND), 1);
  });

  it('45047: more messages than Weixin allows after one user message', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    for (let index = 0; index < 5; index++) await messages.sendText(USER, `message ${index}`);
    await assert.rejects(
      messages.sendText(USER, 'one too many'),
      refusal(45047, /wait for their next message/),
    );
    assert.equal(weixin.fake.countRequests(SEND), 6);
    assert.equal(weixin.fake.sentMessages().length, 5);
  });

  it("40003: an openid that is not this account's user", async () => {
    const messages = messagesOf(await weixin.module());
    await assert.rejects(
      messages.sendText('oStranger000000000000000001', 'hi'),
      refusal(40003, /openids differ per account/),
    );
    assert.equal(weixin.fake.countRequests(SEND), 1);
  });

  for (const [errcode, hint] of [
    [48001, /no permission for \/cgi-bin\/message\/custom\/send/],
    [45009, /daily quota for \/cgi-bin\/message\/custom\/send/],
    [45011, /per-minute quota/],
  ] as const) {
    it(`${errcode}`, async () => {
      const messages = messagesOf(await weixin.module());
      follow(weixin.fake, USER);
      weixin.fake.injectFault({ path: SEND, errcode });
      await assert.rejects(messages.sendText(USER, 'refused'), refusal(errcode, hint));
      assert.equal(weixin.fake.countRequests(SEND), 1);
      assert.equal(weixin.fake.sentMessages().length, 0);
    });
  }
});

describe('WeixinMessageService: self-healing media_ids', () => {
  const weixin = fakeWeixinPerTest();

  it('a cached media_id Weixin no longer knows is dropped, uploaded once more, and the message sent once', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const first = await messages.sendImage(USER, mediaFixture('image.jpg'));
    // Weixin's media expire after 3 days; the reuse cache, on the real clock, still holds the id.
    weixin.fake.advanceTime(3 * DAY + HOUR);
    follow(weixin.fake, USER);
    const healed = await messages.sendImage(USER, mediaFixture('image.jpg'));
    assert.equal(healed.reuploaded, true);
    assert.equal(healed.media?.reused, false);
    assert.notEqual(healed.media?.mediaId, first.media?.mediaId);
    assert.equal(weixin.fake.countRequests(UPLOAD), 2);
    // The token died with the 3 days too (42001, refreshed): one 40007, then the resend.
    assert.deepEqual(
      weixin.fake.requests.filter((request) => request.path === SEND).map((request) => request.errcode ?? 0),
      [0, 42001, 40007, 0],
    );
    assert.deepEqual(
      weixin.fake.sentMessages().map((sent) => sent.message.media_id),
      [first.media!.mediaId, healed.media!.mediaId],
    );
    // The new id is what the cache answers from now on.
    const again = await messages.sendImage(USER, mediaFixture('image.jpg'));
    assert.equal(again.media?.mediaId, healed.media?.mediaId);
    assert.equal(again.reuploaded, false);
  });

  it("a caller's MediaRef that Weixin refuses (40007) rejects with a hint and is not retried", async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const voice = await messages.sendVoice(USER, mediaFixture('voice-speech.amr'));
    // A voice's media_id in an image message: Weixin knows the id, but not as an image.
    await assert.rejects(
      messages.sendImage(USER, { mediaId: voice.media!.mediaId }),
      refusal(40007, /expire 3 days after upload/),
    );
    assert.equal(weixin.fake.countRequests(SEND), 2);
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
  });
});

describe('WeixinMessageService.typing', () => {
  const weixin = fakeWeixinPerTest();

  it('shows the state; asking again while it shows (45081) resolves; cancelling works', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    await messages.typing(USER);
    await messages.typing(USER);
    await messages.typing(USER, false);
    assert.equal(weixin.fake.countRequests(TYPING), 3);
    assert.deepEqual(
      weixin.fake.requests
        .filter((request) => request.path === TYPING)
        .map((request) => request.errcode ?? 0),
      [0, 45081, 0],
    );
  });

  it('45080 (no interaction in the last 30 s) and 45072 reject with hints', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER, 31_000);
    await assert.rejects(messages.typing(USER), refusal(45080, /within 30 seconds/));
    weixin.fake.injectFault({ path: TYPING, errcode: 45072 });
    await assert.rejects(messages.typing(USER), refusal(45072, /Typing" or "CancelTyping/));
  });
});
