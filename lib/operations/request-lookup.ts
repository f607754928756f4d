import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';
import { redactSecrets } from '../errors/secret-redaction';
import type { WeixinRequestRecord } from '../interfaces/weixin-operations.interface';
import type { WeixinApiClient } from '../weixin-api/weixin-api.client';

export const RID_PATH = '/cgi-bin/openapi/rid/get';
/** A rid as Weixin writes it into errmsg: `6650f3f1-1a2b3c4d-5e6f7a8b`. */
const RID_PATTERN = /^[\w-]{1,128}$/;

interface RidAnswer {
  request?: {
    invoke_time?: unknown;
    cost_in_ms?: unknown;
    request_url?: unknown;
    request_body?: unknown;
    response_body?: unknown;
    client_ip?: unknown;
  };
}

/**
 * Asks Weixin what it recorded of the failed call `rid` (`openapi/rid/get`). The recorded URL holds the
 * caller's access token (and a token request's body the app secret): both are redacted here, before
 * the record reaches a log or a support ticket. `secrets` are literal values to redact as well.
 */
export async function lookupWeixinRequest(
  client: WeixinApiClient,
  rid: string,
  secrets: Iterable<string | undefined>,
  signal?: AbortSignal,
): Promise<WeixinRequestRecord> {
  if (typeof rid !== 'string' || !RID_PATTERN.test(rid)) {
    throw new RangeError(
      'lookupRequest needs a rid as Weixin writes it into errmsg (1-128 letters, digits, - and _), ' +
        'e.g. WeixinApiError.rid',
    );
  }
  const data = await client.json<RidAnswer>(RID_PATH, { rid }, { repeatable: true, signal });
  const request = data?.request;
  if (!request || typeof request.invoke_time !== 'number') {
    throw new WeixinApiError(WeixinErrorCode.SYSTEM_BUSY, 'the rid answer had no request record', RID_PATH);
  }
  const known = [...secrets];
  const clean = (value: unknown): string => redactSecrets(typeof value === 'string' ? value : '', known);
  return {
    rid,
    invokedAt: new Date(request.invoke_time * 1000),
    costMs: typeof request.cost_in_ms === 'number' ? request.cost_in_ms : 0,
    requestUrl: clean(request.request_url),
    requestBody: clean(request.request_body),
    responseBody: clean(request.response_body),
    clientIp: clean(request.client_ip),
  };
}
