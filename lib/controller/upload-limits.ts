import type { WeixinMediaUploadLimits } from '../interfaces';

/** The upload limits after defaults: what the upload interceptor applies. */
export type ResolvedUploadLimits = Required<WeixinMediaUploadLimits>;

/** Injects the controller's `limits` into `MediaUploadInterceptor` (optional: defaults apply without it). */
export const WEIXIN_MEDIA_UPLOAD_LIMITS = Symbol('WEIXIN_MEDIA_UPLOAD_LIMITS');
/**
 * The file limit of a controller mounted with `fit: true` (`fit.maxInputBytes`); null or absent: the type's
 * limit. Injected into `MediaUploadInterceptor`.
 */
export const WEIXIN_MEDIA_CONTROLLER_FIT_LIMIT = Symbol('WEIXIN_MEDIA_CONTROLLER_FIT_LIMIT');

export const DEFAULT_UPLOAD_LIMITS: ResolvedUploadLimits = {
  formOverheadBytes: 16 * 1024,
  idleTimeoutMs: 30_000,
  minBytesPerSecond: 64 * 1024,
  minBodyTimeMs: 30_000,
};

export function resolveUploadLimits(limits: WeixinMediaUploadLimits = {}): ResolvedUploadLimits {
  const resolved = { ...DEFAULT_UPLOAD_LIMITS };
  for (const key of Object.keys(DEFAULT_UPLOAD_LIMITS) as Array<keyof ResolvedUploadLimits>) {
    if (limits[key] !== undefined) resolved[key] = limits[key];
  }
  return resolved;
}

/** Everything wrong with `controller.limits`, as sentences that say how to fix it. */
export function uploadLimitsProblems(limits: unknown): string[] {
  if (limits === undefined) return [];
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    return [`controller.limits must be an object { ${Object.keys(DEFAULT_UPLOAD_LIMITS).join(', ')} }`];
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_UPLOAD_LIMITS)) {
      problems.push(
        `controller.limits.${key} is not a limit; use ${Object.keys(DEFAULT_UPLOAD_LIMITS).join(', ')}`,
      );
    } else if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      problems.push(`controller.limits.${key} must be a positive number, got ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/** "30 s", "0.4 s". */
export function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(1)} s`;
}
