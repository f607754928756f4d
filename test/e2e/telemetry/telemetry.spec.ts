import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MediaValidationError, WeixinApiError } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { mediaFixture } from '../../support/paths';

const UPLOAD = '/cgi-bin/media/upload';
/** Every attribute the library may set: anything else (a URL, a message, a filename) would be a leak risk. */
const ALLOWED_ATTRIBUTES = new Set([
  'weixin.app_id',
  'weixin.media.type',
  'weixin.media.bytes',
  'weixin.media.reused',
  'weixin.media.fitted',
  'weixin.token.mode',
  'weixin.outcome',
  'weixin.errcode',
  'weixin.attempts',
  'error.type',
]);

describe('telemetry through @opentelemetry/api (in-memory SDK exporters)', () => {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  before(() => {
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  });
  const weixin = fakeWeixinPerTest();
  after(async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });

  /** Every counter data point of `name` as { outcome → value }. */
  async function counted(name: string): Promise<Record<string, number>> {
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === name)
      .flatMap(
        (metric) => metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>,
      );
    const byOutcome: Record<string, number> = {};
    for (const point of points) {
      const outcome = String(point.attributes['weixin.outcome']);
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + (point.value as number);
    }
    return byOutcome;
  }

  it('spans and metrics for uploads, reuse, rejections, failures, retries, downloads and the token, with no secret anywhere', async () => {
    const context = await weixin.module();
    const image = distinctJpeg('telemetry-image');
    const first = await context.service.uploadImage(image);
    const again = await context.service.uploadImage(image);
    assert.equal(again.reused, true);
    await assert.rejects(context.service.uploadImage(Buffer.from('not an image')), MediaValidationError);
    weixin.fake.injectFault({ path: UPLOAD, errcode: 48001 });
    await assert.rejects(context.service.uploadImage(distinctJpeg('refused')), WeixinApiError);
    weixin.fake.injectFault({ path: UPLOAD, errcode: -1 });
    await context.service.uploadVoice(readFileSync(mediaFixture('voice-speech.mp3')));
    const downloaded = await context.service.download(first.mediaId);
    assert.equal(downloaded.kind, 'file');

    const finished = spans.getFinishedSpans();
    const named = (name: string) => finished.filter((span) => span.name === name);
    assert.deepEqual(
      finished.map((span) => span.name),
      [
        'weixin.token.fetch',
        'weixin.media.upload',
        'weixin.media.upload',
        'weixin.media.upload',
        'weixin.media.upload',
        'weixin.media.upload',
        'weixin.media.download',
      ],
    );
    const [token] = named('weixin.token.fetch');
    assert.deepEqual(token.attributes, {
      'weixin.app_id': weixin.fake.appId,
      'weixin.token.mode': 'stable',
      'weixin.outcome': 'fetched',
      'weixin.attempts': 1,
    });
    const [uploaded, reused, rejected, refused, retried] = named('weixin.media.upload');
    assert.deepEqual(uploaded.attributes, {
      'weixin.media.type': 'image',
      'weixin.app_id': weixin.fake.appId,
      'weixin.media.bytes': image.length,
      'weixin.media.reused': false,
      'weixin.media.fitted': false,
      'weixin.outcome': 'uploaded',
      'weixin.attempts': 1,
    });
    assert.equal(reused.attributes['weixin.media.reused'], true);
    assert.equal(reused.attributes['weixin.outcome'], 'reused');
    assert.equal(reused.attributes['weixin.attempts'], undefined, 'no HTTP try for a reused upload');
    assert.equal(rejected.attributes['weixin.outcome'], 'rejected');
    assert.equal(rejected.attributes['error.type'], 'MediaValidationError');
    assert.equal(rejected.attributes['weixin.errcode'], 40005);
    assert.equal(rejected.status.code, 2 /* ERROR */);
    assert.equal(refused.attributes['weixin.outcome'], 'failed');
    assert.equal(refused.attributes['weixin.errcode'], 48001);
    assert.equal(refused.status.message, 'WeixinApiError');
    assert.equal(retried.attributes['weixin.media.type'], 'voice');
    assert.equal(retried.attributes['weixin.attempts'], 2, 'system busy once, then through');
    const [download] = named('weixin.media.download');
    assert.equal(download.attributes['weixin.media.bytes'], image.length);

    // Nothing but the allowed attributes, and no secret, token or content in any span, attribute or event.
    const tokens = [
      ...new Set(weixin.fake.requests.map((r) => r.query.access_token).filter(Boolean)),
    ] as string[];
    assert.ok(tokens.length >= 1);
    for (const span of finished) {
      for (const key of Object.keys(span.attributes)) assert.ok(ALLOWED_ATTRIBUTES.has(key), key);
      assert.deepEqual(span.events, []);
      const text = JSON.stringify({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        links: span.links,
      });
      const everything = `${text} ${inspect(span, { depth: 6 })}`;
      assert.ok(!everything.includes(weixin.fake.appSecret), 'no app secret');
      for (const token of tokens) assert.ok(!everything.includes(token), 'no access token');
      assert.ok(!everything.includes('telemetry-image'), 'no file content');
      assert.ok(!everything.includes(first.mediaId), 'no media_id');
    }

    assert.deepEqual(await counted('weixin.media.uploads'), {
      uploaded: 2,
      reused: 1,
      rejected: 1,
      failed: 1,
    });
    assert.deepEqual(await counted('weixin.token.fetches'), { fetched: 1 });
    assert.deepEqual(await counted('weixin.media.downloads'), { ok: 1 });
    const { resourceMetrics } = await reader.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.map((m) => m.descriptor.name),
    );
    for (const histogram of [
      'weixin.media.upload.duration',
      'weixin.media.download.duration',
      'weixin.token.fetch.duration',
    ]) {
      assert.ok(names.includes(histogram), histogram);
    }
  });

  it('a fitted upload: a weixin.media.fit span (what it made) inside the upload, which says fitted', async () => {
    spans.reset();
    const context = await weixin.module({ mediaCache: false });
    const png = readFileSync(mediaFixture('image.png'));
    const media = await context.service.uploadThumb(png, { fit: true });
    assert.ok(media.fitted);
    const [fit, upload] = spans.getFinishedSpans().filter((span) => span.name.startsWith('weixin.media.'));
    assert.equal(fit.name, 'weixin.media.fit');
    assert.deepEqual(fit.attributes, {
      'weixin.media.type': 'thumb',
      'weixin.media.bytes': media.fitted.bytesAfter,
      'weixin.media.fitted': true,
      'weixin.outcome': 'converted',
    });
    assert.equal(upload.name, 'weixin.media.upload');
    assert.equal(upload.attributes['weixin.media.fitted'], true);
    assert.equal(upload.attributes['weixin.media.bytes'], media.fitted.bytesAfter);
    assert.equal(upload.attributes['weixin.outcome'], 'uploaded');
  });
});
