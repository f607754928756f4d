import { AsyncLocalStorage } from 'node:async_hooks';
import { loadOptionalPeer } from '../common/optional-peer';
import type { WeixinSpan, WeixinSpanFacts, WeixinSpanName } from './weixin-span.interface';

type OpenTelemetry = typeof import('@opentelemetry/api');
type Attributes = Record<string, string | number | boolean>;

const SCOPE = 'nestjs-weixin-media';
/** Each fact's attribute name: the only attributes this library ever sets. */
const ATTRIBUTE_NAMES: Record<keyof WeixinSpanFacts, string> = {
  appId: 'weixin.app_id',
  type: 'weixin.media.type',
  bytes: 'weixin.media.bytes',
  reused: 'weixin.media.reused',
  fitted: 'weixin.media.fitted',
  tokenMode: 'weixin.token.mode',
  outcome: 'weixin.outcome',
};
/** Low-cardinality facts only on metrics (an AppID per data point would explode a multi-account backend). */
const METRIC_FACTS: ReadonlyArray<keyof WeixinSpanFacts> = ['type', 'tokenMode', 'outcome'];
/** The counter per span: uploads by outcome, downloads, fits, token fetches. */
const COUNTERS: Record<WeixinSpanName, string> = {
  'weixin.media.upload': 'weixin.media.uploads',
  'weixin.media.download': 'weixin.media.downloads',
  'weixin.media.fit': 'weixin.media.fits',
  'weixin.token.fetch': 'weixin.token.fetches',
};

/** `@opentelemetry/api` when the app has it; undefined when it is absent or does not load. */
function openTelemetry(): OpenTelemetry | undefined {
  try {
    return loadOptionalPeer<OpenTelemetry>('@opentelemetry/api', 'telemetry');
  } catch {
    // A broken telemetry install costs the spans, never an upload.
    return undefined;
  }
}

let noop: { tracers: unknown; meter: unknown } | undefined;

/**
 * Whether the app registered a tracer or a meter provider. With the API alone (often installed by other
 * packages) every span and instrument is a no-op, and the context this library keeps per operation would
 * cost each upload a promise hook for nothing.
 */
function observed(api: OpenTelemetry): boolean {
  // A fresh proxy's delegate is the API's no-op provider; the no-op meter is a singleton.
  noop ??= { tracers: new api.ProxyTracerProvider().getDelegate(), meter: api.createNoopMeter() };
  const tracers = api.trace.getTracerProvider();
  return (
    (tracers instanceof api.ProxyTracerProvider ? tracers.getDelegate() : tracers) !== noop.tracers ||
    api.metrics.getMeterProvider().getMeter(SCOPE) !== noop.meter
  );
}

/** The span whose HTTP tries `countAttempt` counts (our own context: works without an OTel context manager). */
const active = new AsyncLocalStorage<ActiveSpan>();

class ActiveSpan implements WeixinSpan {
  readonly facts: WeixinSpanFacts = {};
  attempts = 0;

  set(facts: WeixinSpanFacts): void {
    Object.assign(this.facts, facts);
  }
}

const NO_SPAN: WeixinSpan = { set: () => undefined };

/**
 * Runs `operation` in the span `name` with `facts`, and records its duration and outcome as metrics. Without
 * `@opentelemetry/api` it just runs `operation`. On failure the span says the error's name and errcode (never
 * its message) and the error is rethrown unchanged.
 */
export async function traced<T>(
  name: WeixinSpanName,
  facts: WeixinSpanFacts,
  operation: (span: WeixinSpan) => Promise<T>,
): Promise<T> {
  const api = openTelemetry();
  if (!api || !observed(api)) return operation(NO_SPAN);
  const span = new ActiveSpan();
  span.set(facts);
  const startedAt = performance.now();
  return api.trace.getTracer(SCOPE).startActiveSpan(name, async (otelSpan) => {
    const failure: Attributes = {};
    try {
      const result = await active.run(span, () => operation(span));
      otelSpan.setStatus({ code: api.SpanStatusCode.OK });
      return result;
    } catch (error) {
      const { name: errorName, errcode } = (error ?? {}) as { name?: unknown; errcode?: unknown };
      failure['error.type'] = typeof errorName === 'string' ? errorName : 'Error';
      if (typeof errcode === 'number') failure['weixin.errcode'] = errcode;
      failure['weixin.outcome'] = errorName === 'MediaValidationError' ? 'rejected' : 'failed';
      otelSpan.setStatus({ code: api.SpanStatusCode.ERROR, message: failure['error.type'] as string });
      throw error;
    } finally {
      const attributes = { ...attributesOf(span.facts), ...failure };
      if (span.attempts > 0) attributes['weixin.attempts'] = span.attempts;
      attributes['weixin.outcome'] ??= 'ok';
      otelSpan.setAttributes(attributes);
      otelSpan.end();
      record(api, name, attributes, performance.now() - startedAt);
    }
  });
}

/** One HTTP try of the current operation (the transport calls it per try, retries included). */
export function countAttempt(): void {
  const span = active.getStore();
  if (span) span.attempts++;
}

function attributesOf(facts: WeixinSpanFacts): Attributes {
  const attributes: Attributes = {};
  for (const [fact, value] of Object.entries(facts) as Array<[keyof WeixinSpanFacts, unknown]>) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      attributes[ATTRIBUTE_NAMES[fact]] = value;
    }
  }
  return attributes;
}

interface Instruments {
  provider: unknown;
  counters: Map<string, { add(value: number, attributes: Attributes): void }>;
  durations: Map<string, { record(value: number, attributes: Attributes): void }>;
}

let instruments: Instruments | undefined;

/** Counts the operation and records its duration (ms), by outcome and type; instruments made once per provider. */
function record(api: OpenTelemetry, name: WeixinSpanName, attributes: Attributes, durationMs: number): void {
  const provider = api.metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    instruments = { provider, counters: new Map(), durations: new Map() };
  }
  const meter = api.metrics.getMeter(SCOPE);
  const counterName = COUNTERS[name];
  let counter = instruments.counters.get(counterName);
  if (!counter) {
    counter = meter.createCounter(counterName, { description: `${name} operations by outcome` });
    instruments.counters.set(counterName, counter);
  }
  let duration = instruments.durations.get(name);
  if (!duration) {
    duration = meter.createHistogram(`${name}.duration`, { unit: 'ms', description: `${name} duration` });
    instruments.durations.set(name, duration);
  }
  const metricAttributes: Attributes = {};
  for (const fact of [...METRIC_FACTS.map((f) => ATTRIBUTE_NAMES[f]), 'weixin.errcode']) {
    if (attributes[fact] !== undefined) metricAttributes[fact] = attributes[fact];
  }
  counter.add(1, metricAttributes);
  duration.record(durationMs, metricAttributes);
}
