import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';
import type { WeixinQuota } from '../interfaces/weixin-operations.interface';
import type { WeixinApiClient } from '../weixin-api/weixin-api.client';

export const QUOTA_PATH = '/cgi-bin/openapi/quota/get';
const UPLOAD_CGI_PATH = '/cgi-bin/media/upload';

interface QuotaAnswer {
  quota?: { daily_limit?: unknown; used?: unknown; remain?: unknown };
}

/** Asks Weixin how much of today's `/cgi-bin/media/upload` quota is used (`openapi/quota/get`). */
export async function fetchUploadQuota(client: WeixinApiClient, signal?: AbortSignal): Promise<WeixinQuota> {
  const data = await client.json<QuotaAnswer>(
    QUOTA_PATH,
    { cgi_path: UPLOAD_CGI_PATH },
    { repeatable: true, signal },
  );
  const { daily_limit: dailyLimit, used, remain } = data?.quota ?? {};
  if (!isCount(dailyLimit) || !isCount(used) || !isCount(remain)) {
    throw new WeixinApiError(
      WeixinErrorCode.SYSTEM_BUSY,
      'the quota answer had no daily_limit, used and remain',
      QUOTA_PATH,
    );
  }
  return { dailyLimit, used, remain };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
