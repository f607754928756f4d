import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetWorkerHandle, WorkerReport } from '../../support/fleet';
import { fleetPerTest } from '../../support/fleet-hooks';

const PROCESSES = 4;
const UPLOADS_PER_PROCESS = 250;
const UPLOAD = '/cgi-bin/media/upload';
const TOKEN_PATHS = { stable: '/cgi-bin/stable_token', classic: '/cgi-bin/token' } as const;

describe('a fleet of processes sharing tokens through Redis', () => {
  const parent = fleetPerTest();

  for (const tokenMode of ['stable', 'classic'] as const) {
    const title = `${PROCESSES} processes × ${UPLOADS_PER_PROCESS} concurrent cold uploads make exactly one token request`;
    it(`${tokenMode}: ${title}`, async () => {
      const workersHoldingLock: number[] = [];
      const fleet = await parent.start({
        processes: PROCESSES,
        tokenMode,
        reportLocks: true,
        onLocked: (worker) => workersHoldingLock.push(worker.workerIndex),
      });
      const job = { uploads: UPLOADS_PER_PROCESS, label: `cold-${tokenMode}` };
      const reports = (await fleet.run(job)) as WorkerReport[];
      const results = reports.flatMap((report) => report.results);

      const failures = results.filter((result) => !result.ok);
      assert.deepEqual(failures, [], 'every upload succeeded');
      assert.equal(results.length, PROCESSES * UPLOADS_PER_PROCESS);
      assert.equal(parent.fake.countRequests(UPLOAD), PROCESSES * UPLOADS_PER_PROCESS);
      assert.equal(parent.fake.tokenRequestCount, 1, 'one token request for the whole fleet');
      assert.equal(parent.fake.countRequests(TOKEN_PATHS[tokenMode]), 1);
      // A process may still take the lock just after the holder released it, but then finds the token.
      assert.ok(workersHoldingLock.length >= 1, 'a process took the refresh lock');
      const tokens = new Set(
        parent.fake.requests.filter((r) => r.path === UPLOAD).map((r) => r.query.access_token),
      );
      assert.equal(tokens.size, 1, 'every process used the same token');
      assert.equal(new Set(reports.map((report) => report.pid)).size, PROCESSES, 'really separate processes');
      // Every worker took part from the cold start (none was served before the token existed).
      assert.ok(reports.every((report) => report.results.length === UPLOADS_PER_PROCESS));
    });
  }

  for (const tokenMode of ['stable', 'classic'] as const) {
    it(`${tokenMode}: killing the lock holder mid-refresh delays the others no longer than the lease`, async () => {
      // Waiting for a token counts against each try's timeoutMs, so the waiters' tries (3 × timeoutMs) must
      // span the lease; with timeoutMs 2 s they would give up before it ends (reported to the lead).
      const timeoutMs = 5_000;
      // AccessTokenManager's lease: min(timeoutMs, 15 s) + 5 s.
      const leaseMs = Math.min(timeoutMs, 15_000) + 5_000;
      const marginMs = 3_000;
      let holder: { worker: FleetWorkerHandle; at: number } | undefined;
      let killedAt = 0;
      // The first token request hangs: its process holds the lock, mid-refresh, when it is killed.
      parent.fake.injectFault({ path: TOKEN_PATHS[tokenMode], delayMs: 60_000, times: 1 });
      const fleet = await parent.start({
        processes: PROCESSES,
        tokenMode,
        timeoutMs,
        reportLocks: true,
        onLocked: (worker, at) => {
          if (holder) return;
          holder = { worker, at };
          // Wait until its token request is really in flight, then crash it.
          const crash = () => {
            if (parent.fake.tokenRequestCount === 0) return void setTimeout(crash, 5);
            killedAt = Date.now();
            fleet.kill(worker);
          };
          crash();
        },
      });
      const reports = await fleet.run({ uploads: 20, label: `crash-${tokenMode}` }, leaseMs + 20_000);

      assert.ok(holder, 'some process took the lock');
      assert.ok(killedAt > 0);
      assert.equal(reports[holder.worker.workerIndex], undefined, 'the holder was killed');
      const survivors = reports.filter((report): report is WorkerReport => report !== undefined);
      assert.equal(survivors.length, PROCESSES - 1);
      const results = survivors.flatMap((report) => report.results);
      assert.deepEqual(
        results.filter((result) => !result.ok),
        [],
        'the others all got their uploads through',
      );

      const recoveredAt = Math.max(...results.map((result) => result.settledAt));
      const waited = recoveredAt - holder.at;
      assert.ok(
        waited <= leaseMs + marginMs,
        `recovered ${waited} ms after the lock was taken (lease ${leaseMs})`,
      );
      // And the lock did hold meanwhile: nobody fetched a second token before the lease ran out.
      assert.ok(
        waited >= leaseMs - 500,
        `recovered after ${waited} ms: before the lease (${leaseMs} ms) ran out?`,
      );
      assert.equal(
        parent.fake.tokenRequestCount,
        2,
        "the dead holder's request and one more, for the whole fleet",
      );
      console.log(
        `# ${tokenMode}: holder killed; the others recovered ${waited} ms after its lock (lease ${leaseMs} ms)`,
      );
      const tokens = new Set(
        parent.fake.requests.filter((r) => r.path === UPLOAD).map((r) => r.query.access_token),
      );
      assert.equal(tokens.size, 1);
    });
  }
});
