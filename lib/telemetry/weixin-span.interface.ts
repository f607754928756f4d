/** The spans this library opens (when `@opentelemetry/api` is installed). */
export type WeixinSpanName =
  'weixin.media.upload' | 'weixin.media.download' | 'weixin.media.fit' | 'weixin.token.fetch';

/**
 * What a span may say: counts, flags and names from a closed list. No free text, so no secret, token,
 * filename or file content can reach an exporter through an attribute.
 */
export interface WeixinSpanFacts {
  appId?: string;
  type?: 'image' | 'voice' | 'video' | 'thumb';
  /** Bytes sent (upload), received (download) or produced (fit). */
  bytes?: number;
  reused?: boolean;
  fitted?: boolean;
  tokenMode?: 'stable' | 'classic';
  /** How the operation ended, for the metrics: e.g. `uploaded`, `reused` (errors set `failed`/`rejected`). */
  outcome?: 'ok' | 'uploaded' | 'reused' | 'converted' | 'unchanged' | 'fetched';
}

/** The span of one operation, as the code that runs inside it sees it. */
export interface WeixinSpan {
  /** Adds facts to the span (and `outcome` to its metrics). */
  set(facts: WeixinSpanFacts): void;
}
