import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MediaValidationError, MessageValidationError, type WeixinAccount } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { follow, messagesOf, SEND, UPLOAD } from '../../support/messages';
import { mediaFixture } from '../../support/paths';

const USER = 'oUser0000000000000000000001';
const OTHER_ACCOUNT: WeixinAccount = {
  appId: 'wxsecond000000001',
  appSecret: 'secret-of-the-second-account',
};

describe('WeixinMessageService: each message as Weixin receives it', () => {
  const weixin = fakeWeixinPerTest({
    accounts: [{ appId: OTHER_ACCOUNT.appId, appSecret: OTHER_ACCOUNT.appSecret! }],
  });

  it('sendText posts { content } and the fake records it for the user', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const sent = await messages.sendText(USER, '你好, Weixin');
    assert.deepEqual(sent, { openId: USER, msgtype: 'text', reuploaded: false });
    const [recorded] = weixin.fake.sentMessages({ openId: USER });
    assert.equal(recorded.msgtype, 'text');
    assert.deepEqual(recorded.message, { content: '你好, Weixin' });
    assert.equal(recorded.appId, weixin.fake.appId);
    assert.equal(recorded.kfAccount, undefined);
  });

  it('sendImage uploads the source through the rules and sends its media_id; the same file again is reused', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const first = await messages.sendImage(USER, mediaFixture('image.jpg'));
    const second = await messages.sendImage(USER, readFileSync(mediaFixture('image.jpg')));
    assert.equal(first.media?.reused, false);
    assert.equal(second.media?.reused, true);
    assert.equal(second.media?.mediaId, first.media?.mediaId);
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
    const recorded = weixin.fake.sentMessages({ openId: USER });
    assert.deepEqual(
      recorded.map((sent) => [sent.msgtype, sent.message]),
      [
        ['image', { media_id: first.media!.mediaId }],
        ['image', { media_id: first.media!.mediaId }],
      ],
    );
    assert.equal(weixin.fake.getMedia(first.media!.mediaId)?.type, 'image');
  });

  it('sendVoice with fit converts a WAV to MP3 and reports progress; a stream source is read once', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const phases = new Set<string>();
    const sent = await messages.sendVoice(USER, createReadStream(mediaFixture('voice-speech.wav')), {
      fit: true,
      onProgress: (progress) => phases.add(progress.phase),
    });
    assert.equal(sent.media?.fitted?.from, 'wav');
    assert.equal(sent.media?.fitted?.to, 'mp3');
    assert.ok(phases.has('upload'), 'upload progress was reported');
    const [recorded] = weixin.fake.sentMessages();
    assert.deepEqual(recorded.message, { media_id: sent.media!.mediaId });
    assert.equal(weixin.fake.getMedia(sent.media!.mediaId)?.type, 'voice');
  });

  it('a MediaRef is sent as given, with no upload; kfAccount goes as customservice.kf_account', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const image = await messages.sendImage(USER, mediaFixture('image.png'));
    const uploads = weixin.fake.countRequests(UPLOAD);
    const sent = await messages.sendImage(
      USER,
      { mediaId: image.media!.mediaId },
      { kfAccount: 'kf2001@gh_test' },
    );
    assert.equal(sent.media, undefined);
    assert.equal(weixin.fake.countRequests(UPLOAD), uploads);
    const last = weixin.fake.sentMessages().at(-1)!;
    assert.deepEqual(last.message, { media_id: image.media!.mediaId });
    assert.equal(last.kfAccount, 'kf2001@gh_test');
  });

  it('sendVideo without a thumb sends a frame of the video, made by ffmpeg, as a JPEG within 64 KB', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const sent = await messages.sendVideo(USER, {
      video: mediaFixture('video-clip.mp4'),
      title: 'A clip',
      description: 'two seconds',
    });
    assert.ok(sent.thumb, 'a thumb was uploaded');
    const [recorded] = weixin.fake.sentMessages();
    assert.deepEqual(recorded.message, {
      media_id: sent.media!.mediaId,
      thumb_media_id: sent.thumb.mediaId,
      title: 'A clip',
      description: 'two seconds',
    });
    const thumb = weixin.fake.getMedia(sent.thumb.mediaId)!;
    assert.equal(thumb.type, 'thumb');
    assert.equal(thumb.data.subarray(0, 2).toString('hex'), 'ffd8');
    assert.ok(thumb.data.length <= 64 * 1024, `${thumb.data.length} bytes`);
  });

  it('sendVideo without ffmpeg goes without thumb_media_id; a given thumb is uploaded as a thumb', async () => {
    const messages = messagesOf(await weixin.module({ fit: { ffmpegPath: '/nonexistent/ffmpeg' } }));
    follow(weixin.fake, USER);
    const bare = await messages.sendVideo(USER, { video: mediaFixture('video-clip.mp4') });
    assert.equal(bare.thumb, undefined);
    const withThumb = await messages.sendVideo(USER, {
      video: { mediaId: bare.media!.mediaId },
      thumb: mediaFixture('thumb.jpg'),
    });
    const [first, second] = weixin.fake.sentMessages();
    assert.deepEqual(first.message, { media_id: bare.media!.mediaId });
    assert.deepEqual(second.message, {
      media_id: bare.media!.mediaId,
      thumb_media_id: withThumb.thumb!.mediaId,
    });
    assert.equal(weixin.fake.getMedia(withThumb.thumb!.mediaId)?.type, 'thumb');
  });

  it('sendMusic sends its URLs (hqmusicurl defaults to musicurl) and its uploaded thumb', async () => {
    const messages = messagesOf(await weixin.module());
    follow(weixin.fake, USER);
    const sent = await messages.sendMusic(USER, {
      musicUrl: 'https://example.com/song.mp3',
      thumb: mediaFixture('thumb.jpg'),
      title: 'Song',
    });
    const [recorded] = weixin.fake.sentMessages();
    assert.equal(recorded.msgtype, 'music');
    assert.deepEqual(recorded.message, {
      title: 'Song',
      musicurl: 'https://example.com/song.mp3',
      hqmusicurl: 'https://example.com/song.mp3',
      thumb_media_id: sent.thumb!.mediaId,
    });
  });

  it('forAccount sends with that account: its uploads, its follower, its token', async () => {
    const context = await weixin.module({ accounts: [OTHER_ACCOUNT] });
    follow(weixin.fake, USER, 0, OTHER_ACCOUNT.appId);
    const sent = await messagesOf(context)
      .forAccount(OTHER_ACCOUNT.appId)
      .sendImage(USER, mediaFixture('image.jpg'));
    assert.equal(weixin.fake.getMedia(sent.media!.mediaId)?.appId, OTHER_ACCOUNT.appId);
    assert.equal(weixin.fake.sentMessages({ appId: OTHER_ACCOUNT.appId }).length, 1);
    assert.equal(weixin.fake.sentMessages({ appId: weixin.fake.appId }).length, 0);
    assert.equal(weixin.fake.countRequests(SEND, OTHER_ACCOUNT.appId), 1);
  });

  describe('bad input is refused before any request', () => {
    const cases: Array<[string, (messages: ReturnType<typeof messagesOf>) => Promise<unknown>, RegExp]> = [
      ['an empty openId', (m) => m.sendText('', 'hi'), /openId must be/],
      ['a malformed openId', (m) => m.sendText('o user"1', 'hi'), /is not an openid/],
      [
        'a text over 2048 bytes',
        (m) => m.sendText(USER, '好'.repeat(683)),
        /2049 bytes of UTF-8; Weixin sends at most 2048/,
      ],
      ['an empty text', (m) => m.sendText(USER, ''), /needs content/],
      [
        'a music message without musicUrl',
        (m) => m.sendMusic(USER, { thumb: mediaFixture('thumb.jpg') } as never),
        /needs musicUrl/,
      ],
      [
        'a music message without a thumb',
        (m) => m.sendMusic(USER, { musicUrl: 'https://example.com/a.mp3' } as never),
        /needs thumb/,
      ],
      ['an unknown msgtype', (m) => m.send(USER, { msgtype: 'news' } as never), /msgtype must be one of/],
      ['a malformed kfAccount', (m) => m.sendText(USER, 'hi', { kfAccount: 'nobody' }), /kfAccount must be/],
    ];
    for (const [name, call, message] of cases) {
      it(name, async () => {
        const messages = messagesOf(await weixin.module());
        follow(weixin.fake, USER);
        await assert.rejects(call(messages), (error: unknown) => {
          assert.ok(error instanceof MessageValidationError, String(error));
          assert.match(error.message, message);
          return true;
        });
        assert.equal(weixin.fake.countRequests(), 0);
      });
    }

    it('an image that breaks the rules', async () => {
      const messages = messagesOf(await weixin.module());
      follow(weixin.fake, USER);
      await assert.rejects(messages.sendImage(USER, mediaFixture('spoof-text.mp3')), MediaValidationError);
      assert.equal(weixin.fake.countRequests(), 0);
    });
  });
});
