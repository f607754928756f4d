import { Test } from '@nestjs/testing';
import axios from 'axios';
import FormData from 'form-data';
import { Agent } from 'node:http';
import { TemporaryMediaService, WeixinMediaModule } from '../lib';
import { FakeWeixinServer } from '../lib/testing';
import { jpegOfSize, runConcurrently } from './bench-media';
import { runBenchmark } from './bench-results';

const COLD_UPLOADS = 1_000;
const UPLOADS_PER_ROUND = 200;
const ROUNDS = 3;
const CONCURRENCY = 8;

/**
 * Token requests for 1,000 concurrent cold uploads (goal: 1), and uploads/s of the service against a
 * raw axios + multipart POST of the same 1 MB image to the same fake server (goal: ratio >= 0.9).
 */
export async function runUploadThroughputBench(): Promise<Record<string, unknown>> {
  const fake = await FakeWeixinServer.start();
  const moduleRef = await Test.createTestingModule({
    imports: [
      WeixinMediaModule.forRoot({ appId: fake.appId, appSecret: fake.appSecret, apiBaseUrl: fake.baseUrl }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  const service = moduleRef.get(TemporaryMediaService);
  const image = jpegOfSize(1024 * 1024);
  try {
    await Promise.all(
      Array.from({ length: COLD_UPLOADS }, () => service.uploadImage(image, { reuse: false })),
    );
    const coldTokenRequests = fake.tokenRequestCount;

    const token = fake.requests.find((r) => r.path === '/cgi-bin/media/upload')!.query.access_token;
    const raw = axios.create({
      baseURL: fake.baseUrl,
      httpAgent: new Agent({ keepAlive: true }),
      maxBodyLength: Infinity,
    });
    const rawUpload = async () => {
      const form = new FormData();
      form.append('media', image, {
        filename: 'photo.jpg',
        contentType: 'image/jpeg',
        knownLength: image.length,
      });
      const { data } = await raw.post('/cgi-bin/media/upload', form, {
        params: { access_token: token, type: 'image' },
        headers: form.getHeaders({ 'content-length': form.getLengthSync() }),
      });
      if (!data.media_id) throw new Error(`raw upload failed: ${JSON.stringify(data)}`);
    };
    const serviceUpload = () => service.uploadImage(image, { reuse: false });

    let rawMs = 0;
    let serviceMs = 0;
    await runConcurrently(50, CONCURRENCY, rawUpload); // warm both paths up
    await runConcurrently(50, CONCURRENCY, serviceUpload);
    for (let round = 0; round < ROUNDS; round++) {
      rawMs += await runConcurrently(UPLOADS_PER_ROUND, CONCURRENCY, rawUpload);
      serviceMs += await runConcurrently(UPLOADS_PER_ROUND, CONCURRENCY, serviceUpload);
    }
    const total = UPLOADS_PER_ROUND * ROUNDS;
    const rawPerSecond = (total / rawMs) * 1000;
    const servicePerSecond = (total / serviceMs) * 1000;
    const results = {
      coldConcurrentUploads: COLD_UPLOADS,
      coldTokenRequests,
      imageBytes: image.length,
      concurrency: CONCURRENCY,
      uploads: total,
      rawAxiosUploadsPerSecond: round1(rawPerSecond),
      serviceUploadsPerSecond: round1(servicePerSecond),
      serviceToRawRatio: Math.round((servicePerSecond / rawPerSecond) * 100) / 100,
    };
    console.log('upload throughput (1 MB JPEG, fake Weixin on 127.0.0.1)');
    console.log(
      `  token requests for ${COLD_UPLOADS} concurrent cold uploads: ${coldTokenRequests} (goal 1)`,
    );
    console.log(`  raw axios + multipart: ${results.rawAxiosUploadsPerSecond} uploads/s`);
    console.log(`  TemporaryMediaService: ${results.serviceUploadsPerSecond} uploads/s`);
    console.log(`  ratio service/raw: ${results.serviceToRawRatio} (goal >= 0.9)`);
    return results;
  } finally {
    await moduleRef.close();
    await fake.close();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

if (require.main === module) {
  runBenchmark('uploadThroughput', runUploadThroughputBench);
}
