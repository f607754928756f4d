import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { FakeWeixinServer } from '../../../lib/testing';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { fleetOpenId, type WorkerReport } from '../../support/fleet';
import { fleetPerTest } from '../../support/fleet-hooks';
import { follow, messagesOf, SEND, UPLOAD } from '../../support/messages';
import { openDescriptors } from '../../support/open-descriptors';
import { mediaFixture } from '../../support/paths';

const FOLLOWERS = 1_000;
const IMAGE = mediaFixture('image.jpg');

/** `count` followers who just wrote, on the fake's clock. */
function followers(fake: FakeWeixinServer, count: number, name: (index: number) => string): string[] {
  const openIds = Array.from({ length: count }, (_, index) => name(index));
  for (const openId of openIds) follow(fake, openId);
  return openIds;
}

/** One upload and one token reached Weixin, and every follower got one image message with its media_id. */
function assertFannedOut(fake: FakeWeixinServer, openIds: string[]): string {
  assert.equal(fake.countRequests(UPLOAD), 1, 'one upload reached Weixin');
  assert.equal(fake.countTokenRequests(), 1, 'one token request');
  assert.equal(fake.countRequests(SEND), openIds.length, 'one send per follower, none repeated');
  const sent = fake.sentMessages();
  assert.equal(sent.length, openIds.length);
  assert.ok(sent.every((message) => message.msgtype === 'image'));
  const mediaIds = new Set(sent.map((message) => message.message.media_id));
  assert.equal(mediaIds.size, 1, 'every message carries the one media_id');
  assert.deepEqual(sent.map((message) => message.openId).sort(), [...openIds].sort(), 'each follower once');
  const [mediaId] = mediaIds as Set<string>;
  assert.ok(fake.getMedia(mediaId)!.data.equals(readFileSync(IMAGE)));
  return mediaId;
}

describe('1,000 concurrent sendImage of one file, in one process', () => {
  const weixin = fakeWeixinPerTest({ messagesPerWindow: 1 });

  for (const [name, source] of [
    ['its path', () => IMAGE],
    ['one Buffer', () => readFileSync(IMAGE)],
  ] as const) {
    it(`from ${name}: 1 upload, 1 token request, 1,000 messages with its media_id`, async () => {
      const messages = messagesOf(await weixin.module());
      const openIds = followers(
        weixin.fake,
        FOLLOWERS,
        (index) => `oFanout${String(index).padStart(20, '0')}`,
      );
      const image = source();
      const results = await Promise.all(openIds.map((openId) => messages.sendImage(openId, image)));
      const mediaId = assertFannedOut(weixin.fake, openIds);
      assert.ok(results.every((result) => result.media?.mediaId === mediaId && !result.reuploaded));
      assert.equal(results.filter((result) => !result.media?.reused).length, 1, 'one call uploaded');
      assert.deepEqual(
        openDescriptors().filter((target) => target === IMAGE),
        [],
        'no descriptor of the file left open',
      );
    });
  }
});

describe('1,000 concurrent sendImage of one file, across 4 processes on one Redis', () => {
  const parent = fleetPerTest({ messagesPerWindow: 1 });
  const PROCESSES = 4;
  const SENDS_PER_PROCESS = 250;

  it(`${PROCESSES} processes × ${SENDS_PER_PROCESS} sends: 1 upload, 1 token request, 1,000 messages`, async () => {
    const prefix = 'oFleetFanout';
    const openIds = followers(parent.fake, PROCESSES * SENDS_PER_PROCESS, (index) =>
      fleetOpenId(prefix, Math.floor(index / SENDS_PER_PROCESS), index % SENDS_PER_PROCESS),
    );
    const fleet = await parent.start({ processes: PROCESSES, tokenMode: 'stable' });
    const reports = (await fleet.run({
      uploads: SENDS_PER_PROCESS,
      label: 'fleet-fanout',
      sourcePath: IMAGE,
      sendImageTo: prefix,
    })) as WorkerReport[];
    const results = reports.flatMap((report) => report.results);
    assert.deepEqual(
      results.filter((result) => !result.ok),
      [],
      'every send succeeded',
    );
    const mediaId = assertFannedOut(parent.fake, openIds);
    assert.ok(results.every((result) => result.ok && result.mediaId === mediaId));
    assert.equal(results.filter((result) => result.ok && !result.reused).length, 1, 'one call uploaded');
  });
});
