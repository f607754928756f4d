import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeixinApiError, type TemporaryMedia } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg, type WorkerReport } from '../../support/fleet';
import { fleetPerTest } from '../../support/fleet-hooks';

const UPLOAD = '/cgi-bin/media/upload';

/** The one upload a group of calls shared: every call answered its media_id, one call uploaded it. */
function assertShared(results: TemporaryMedia[]): void {
  assert.equal(new Set(results.map((media) => media.mediaId)).size, 1, 'one media_id for all');
  assert.equal(results.filter((media) => !media.reused).length, 1, 'the call that uploaded: reused false');
}

describe('identical content in flight is uploaded once, in a process', () => {
  const weixin = fakeWeixinPerTest();

  it('100 concurrent uploads of one buffer make one upload; the sharers answer reused: true', async () => {
    const context = await weixin.module();
    const content = distinctJpeg('in-flight-100');
    const results = await Promise.all(
      Array.from({ length: 100 }, () => context.service.uploadImage(content)),
    );
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
    assertShared(results);
    assert.ok(weixin.fake.getMedia(results[0].mediaId)!.data.equals(content));
  });

  it('needs no cache: with mediaCache: false, concurrent identical uploads still share one', async () => {
    const context = await weixin.module({ mediaCache: false });
    const content = distinctJpeg('in-flight-no-cache');
    const results = await Promise.all(Array.from({ length: 20 }, () => context.service.uploadThumb(content)));
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
    assertShared(results);
    const later = await context.service.uploadThumb(content);
    assert.equal(later.reused, false, 'nothing in flight and no cache: uploaded again');
    assert.equal(weixin.fake.countRequests(UPLOAD), 2);
  });

  it('different content, another type or another account are separate uploads', async () => {
    const other = { appId: 'wxinflightother00', appSecret: 'in-flight-other-secret' };
    weixin.fake.addAccount(other.appId, other.appSecret);
    const context = await weixin.module({
      accounts: [{ appId: weixin.fake.appId, appSecret: weixin.fake.appSecret }, other],
    });
    const one = distinctJpeg('in-flight-one');
    const results = await Promise.all([
      context.service.uploadImage(one),
      context.service.uploadImage(distinctJpeg('in-flight-two')),
      context.service.uploadThumb(one),
      context.service.forAccount(other.appId).uploadImage(one),
    ]);
    assert.equal(weixin.fake.countRequests(UPLOAD), 4);
    assert.equal(new Set(results.map((media) => media.mediaId)).size, 4);
    assert.ok(results.every((media) => !media.reused));
  });

  it('reuse: false opts a call out: each such call uploads', async () => {
    const context = await weixin.module();
    const content = distinctJpeg('in-flight-opt-out');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => context.service.uploadImage(content, { reuse: false })),
    );
    assert.equal(weixin.fake.countRequests(UPLOAD), 10);
    assert.equal(new Set(results.map((media) => media.mediaId)).size, 10);
  });

  it('a shared upload Weixin refuses rejects every sharer with its error; the next call uploads', async () => {
    const context = await weixin.module();
    const content = distinctJpeg('in-flight-refused');
    weixin.fake.injectFault({ path: UPLOAD, errcode: 45009 });
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => context.service.uploadImage(content)),
    );
    assert.equal(weixin.fake.countRequests(UPLOAD), 1, 'one refused upload, not ten');
    for (const outcome of settled) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof WeixinApiError);
      assert.equal(outcome.reason.errcode, 45009);
    }
    const after = await context.service.uploadImage(content);
    assert.equal(after.reused, false);
    assert.equal(weixin.fake.countRequests(UPLOAD), 2);
  });

  it("an upload its own caller aborts is not the sharers' failure: they upload without it", async () => {
    const context = await weixin.module();
    const content = distinctJpeg('in-flight-aborted');
    weixin.fake.injectFault({ path: UPLOAD, delayMs: 500 });
    const first = new AbortController();
    const aborted = context.service.uploadImage(content, { signal: first.signal });
    const sharers = Array.from({ length: 5 }, () => context.service.uploadImage(content));
    setTimeout(() => first.abort(), 50);
    await assert.rejects(aborted, { name: 'AbortError' });
    const results = await Promise.all(sharers);
    assertShared(results);
    assert.equal(weixin.fake.countRequests(UPLOAD), 2, 'the aborted try, then one upload for the five');
  });

  it("a sharer's own signal stops its wait only, not the upload it shares", async () => {
    const context = await weixin.module();
    const content = distinctJpeg('in-flight-sharer-aborts');
    weixin.fake.injectFault({ path: UPLOAD, delayMs: 300 });
    const uploading = context.service.uploadImage(content);
    const leaving = new AbortController();
    const sharer = context.service.uploadImage(content, { signal: leaving.signal });
    setTimeout(() => leaving.abort(), 50);
    await assert.rejects(sharer, { name: 'AbortError' });
    assert.equal((await uploading).reused, false);
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
  });
});

describe('identical content in flight is uploaded once, across a fleet on one Redis', () => {
  const parent = fleetPerTest();
  const PROCESSES = 4;
  const UPLOADS_PER_PROCESS = 100;

  it(`${PROCESSES} processes × ${UPLOADS_PER_PROCESS} concurrent uploads of one file make one upload`, async () => {
    const fleet = await parent.start({ processes: PROCESSES, tokenMode: 'stable' });
    const reports = (await fleet.run({
      uploads: UPLOADS_PER_PROCESS,
      label: 'fleet-in-flight',
      sameContent: true,
    })) as WorkerReport[];
    const results = reports.flatMap((report) => report.results);
    assert.deepEqual(
      results.filter((result) => !result.ok),
      [],
      'every upload succeeded',
    );
    assert.equal(results.length, PROCESSES * UPLOADS_PER_PROCESS);
    assert.equal(parent.fake.countRequests(UPLOAD), 1, 'one upload reached Weixin');
    assert.equal(new Set(results.map((result) => (result.ok ? result.mediaId : ''))).size, 1);
    assert.equal(results.filter((result) => result.ok && !result.reused).length, 1);
  });

  it('the holder of the lock fails: its process fails with it, another process uploads', async () => {
    const fleet = await parent.start({ processes: PROCESSES, tokenMode: 'stable' });
    parent.fake.injectFault({ path: UPLOAD, errcode: 45009 });
    const reports = (await fleet.run({
      uploads: UPLOADS_PER_PROCESS,
      label: 'fleet-in-flight-refused',
      sameContent: true,
    })) as WorkerReport[];
    const failedProcesses = reports.filter((report) => report.results.some((result) => !result.ok));
    assert.equal(
      failedProcesses.length,
      1,
      'the refused upload failed the calls that shared it, in one process',
    );
    assert.ok(failedProcesses[0].results.every((result) => !result.ok && result.errcode === 45009));
    const answered = reports.flatMap((report) => report.results).filter((result) => result.ok);
    assert.equal(answered.length, (PROCESSES - 1) * UPLOADS_PER_PROCESS);
    assert.equal(new Set(answered.map((result) => (result.ok ? result.mediaId : ''))).size, 1);
    assert.equal(parent.fake.countRequests(UPLOAD), 2, 'the refused upload, then one for the others');
  });
});
