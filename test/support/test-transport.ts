import { WeixinTransport } from '../../lib/weixin-api/weixin-transport';

/** A transport on `baseUrl` with fast retries: 3 tries, 1 ms base backoff, 2 s per try. */
export function transportFor(
  baseUrl: string,
  options: Partial<ConstructorParameters<typeof WeixinTransport>[0]> = {},
): WeixinTransport {
  return new WeixinTransport({
    apiBaseUrl: baseUrl,
    maxSockets: 4,
    timeoutMs: 2_000,
    retry: { attempts: 3, baseDelayMs: 1 },
    ...options,
  });
}
