import { readFileSync } from 'node:fs';
import { FakeWeixinServer } from '../lib/testing';
import { fleetRound } from '../test/support/fleet';
import { mediaFixture } from '../test/support/paths';
import { RedisServer } from '../test/support/redis-server';
import { runBenchmark } from './bench-results';

const PROCESSES = 4;
const UPLOADS_PER_PROCESS = 250;
const UPLOAD = '/cgi-bin/media/upload';

/**
 * Identical content in flight (`inFlightFleet` in bench/results.json): 4 processes on one Redis each start
 * 250 uploads of one JPEG at once (goal: 1 upload reaches Weixin), with their wall time and each process's
 * resident memory growth; then the same with `reuse: false`, where every call uploads, for comparison.
 */
export async function runInFlightFleetBench(): Promise<Record<string, unknown>> {
  const redis = await RedisServer.start();
  const fake = await FakeWeixinServer.start();
  const admin = redis.createClient();
  try {
    const shared = await oneRound(redis, fake, admin, true);
    const apart = await oneRound(redis, fake, admin, false);
    const results = {
      processes: PROCESSES,
      uploadsPerProcess: UPLOADS_PER_PROCESS,
      imageBytes: readFileSync(mediaFixture('image.jpg')).length,
      shared,
      reuseOff: apart,
      goals: { uploadsToWeixin: 1 },
      goalsMet: { shared: shared.uploadsToWeixin === 1 },
    };
    console.log(
      `in flight: ${PROCESSES} processes × ${UPLOADS_PER_PROCESS} concurrent uploads of one file, one Redis`,
    );
    for (const [name, round] of [
      ['shared', shared],
      ['reuse: false', apart],
    ] as const) {
      console.log(
        `  ${name}: ${round.uploadsToWeixin} upload(s) at Weixin, ${round.wallMs} ms, ` +
          `RSS growth per process ${round.rssGrowthMbPerProcess.join(', ')} MB`,
      );
    }
    return results;
  } finally {
    admin.disconnect();
    await fake.close();
    await redis.stop();
  }
}

async function oneRound(
  redis: RedisServer,
  fake: FakeWeixinServer,
  admin: ReturnType<RedisServer['createClient']>,
  reuse: boolean,
) {
  await admin.flushall();
  fake.reset();
  const { wallMs, rssGrowthMbPerProcess } = await fleetRound(redis, fake, PROCESSES, {
    uploads: UPLOADS_PER_PROCESS,
    label: `in-flight-${reuse}`,
    sameContent: true,
    reuse,
  });
  return { uploadsToWeixin: fake.countRequests(UPLOAD), wallMs, rssGrowthMbPerProcess };
}

if (require.main === module) runBenchmark('inFlightFleet', runInFlightFleetBench);
