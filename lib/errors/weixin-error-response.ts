import { MediaFitError } from './media-fit.error';
import { MediaSourceError } from './media-source.error';
import { MediaValidationError } from './media-validation.error';
import { MessageValidationError } from './message-validation.error';
import { AccountResolverTimeoutError } from './account-resolver-timeout.error';
import { UnknownAccountError } from './unknown-account.error';
import {
  UploadAbortedError,
  UploadBodyTooLargeError,
  UploadFormError,
  UploadTimeoutError,
} from './upload-errors';
import { WeixinApiError } from './weixin-api.error';
import { WeixinErrorCode } from './weixin-error-codes';
import { WeixinDownloadTooLargeError } from './weixin-download-too-large.error';
import { WeixinNetworkError } from './weixin-network.error';

/** The body Weixin answers errors with; the controller, pipes and validators answer the same shape. */
export interface WeixinErrorBody {
  errcode: number;
  errmsg: string;
}

/** An HTTP answer in Weixin's shape: the status and the body. */
export interface WeixinErrorResponse {
  status: number;
  body: WeixinErrorBody;
}

// HTTP statuses by name, without a framework (errors/ imports none).
const BAD_REQUEST = 400;
const UNAUTHORIZED = 401;
const FORBIDDEN = 403;
const NOT_FOUND = 404;
const REQUEST_TIMEOUT = 408;
const PAYLOAD_TOO_LARGE = 413;
const TOO_MANY_REQUESTS = 429;
const NOT_IMPLEMENTED = 501;
const BAD_GATEWAY = 502;
const SERVICE_UNAVAILABLE = 503;
const GATEWAY_TIMEOUT = 504;

/** The errcode sent with an HTTP status when nothing better is known: Weixin's nearest meaning. */
const ERRCODE_BY_STATUS: Record<number, number> = {
  // A guard's refusal is your server's answer, not Weixin's (41001 would read as a Weixin token problem): the
  // errcode is the status itself.
  [UNAUTHORIZED]: UNAUTHORIZED,
  [FORBIDDEN]: FORBIDDEN,
  [REQUEST_TIMEOUT]: WeixinErrorCode.MEDIA_DATA_MISSING, // the media data did not arrive
  [PAYLOAD_TOO_LARGE]: WeixinErrorCode.INVALID_MEDIA_SIZE,
  [TOO_MANY_REQUESTS]: WeixinErrorCode.MINUTE_QUOTA_REACHED,
};

/** The errcode for a status when the answer brings none: Weixin's "invalid args" for other client errors. */
export function errcodeForStatus(status: number): number {
  return (
    ERRCODE_BY_STATUS[status] ?? (status >= 500 ? WeixinErrorCode.SYSTEM_BUSY : WeixinErrorCode.INVALID_ARGS)
  );
}

function answer(status: number, errcode: number, errmsg: string): WeixinErrorResponse {
  return { status, body: { errcode, errmsg } };
}

/** No media in the request (no file, the wrong form, a body cut off): Weixin's 41005 "media data missing". */
export function missingMediaResponse(detail: string, status = BAD_REQUEST): WeixinErrorResponse {
  return answer(status, WeixinErrorCode.MEDIA_DATA_MISSING, `media data missing: ${detail}`);
}

/** A malformed appid, or one given in conflicting ways: 400 with Weixin's "invalid appid" (40013). */
export function invalidAppIdResponse(detail: string): WeixinErrorResponse {
  return answer(BAD_REQUEST, WeixinErrorCode.INVALID_APPID, `invalid appid: ${detail}`);
}

/** A download from Weixin that broke off before its first byte went out. */
export function downloadFailedResponse(error: Error): WeixinErrorResponse {
  return answer(BAD_GATEWAY, WeixinErrorCode.SYSTEM_BUSY, `the download from Weixin failed (${error.name})`);
}

/**
 * The one mapping from the library's errors to Weixin's HTTP answer, for the exception filter, the pipes,
 * the validator and the upload interceptor alike; undefined for an error that is the server's own fault
 * (a store outage, bad options), which is no client's to read.
 *
 * - a broken rule: 413 (40006) for a file too large, 400 with the errcode Weixin would have answered otherwise
 *   (a message to send too)
 * - a source that cannot be read: 404 when the path does not exist, 400 otherwise, errcode equal to the status
 *   and no server path
 * - a source `fit` could not convert: 413 (40006) over its input limits; 501 (errcode 501) when this server
 *   lacks the engine (its operator must install it; the message says what); 400 (40005) otherwise
 * - Weixin said no: 404 for an unknown or expired media_id (the caller's mistake), 502 otherwise, its errcode
 * - an unknown account: 404 (40013), like an unknown media_id; Weixin unreachable: 502, or 504 on timeout (-1)
 * - the upload's body: 400 (41005) for the wrong form or a body cut off, 413 (40006) over its budget, 408
 *   (41005) when it stalled
 */
export function weixinErrorResponse(error: unknown): WeixinErrorResponse | undefined {
  if (error instanceof MediaValidationError) {
    const status = error.reason === 'too-large' ? PAYLOAD_TOO_LARGE : BAD_REQUEST;
    return answer(status, error.errcode, error.message);
  }
  if (error instanceof MessageValidationError) return answer(BAD_REQUEST, error.errcode, error.message);
  if (error instanceof MediaSourceError) {
    const missing = error.systemCode === 'ENOENT' || error.systemCode === 'ENOTDIR';
    const status = missing ? NOT_FOUND : BAD_REQUEST;
    return answer(status, status, `the media source cannot be read (${error.systemCode})`);
  }
  if (error instanceof MediaFitError) return fitResponse(error);
  if (error instanceof WeixinApiError) {
    const status = error.errcode === WeixinErrorCode.INVALID_MEDIA_ID ? NOT_FOUND : BAD_GATEWAY;
    return answer(status, error.errcode, error.errmsg);
  }
  if (error instanceof UnknownAccountError) {
    return answer(NOT_FOUND, WeixinErrorCode.INVALID_APPID, `invalid appid: ${error.message}`);
  }
  if (error instanceof AccountResolverTimeoutError) {
    const errmsg = `the account "${error.appId}" could not be looked up within ${error.timeoutMs} ms; try again later`;
    return answer(SERVICE_UNAVAILABLE, WeixinErrorCode.SYSTEM_BUSY, errmsg);
  }
  if (error instanceof WeixinNetworkError) return networkResponse(error);
  if (error instanceof UploadFormError) return missingMediaResponse(error.message);
  if (error instanceof UploadBodyTooLargeError) {
    return answer(PAYLOAD_TOO_LARGE, WeixinErrorCode.INVALID_MEDIA_SIZE, error.message);
  }
  if (error instanceof UploadTimeoutError) return missingMediaResponse(error.message, REQUEST_TIMEOUT);
  if (error instanceof UploadAbortedError) return missingMediaResponse('the client closed the connection');
  return undefined;
}

function fitResponse(error: MediaFitError): WeixinErrorResponse {
  if (error.reason === 'input-too-large') {
    return answer(PAYLOAD_TOO_LARGE, WeixinErrorCode.INVALID_MEDIA_SIZE, error.message);
  }
  if (error.reason === 'engine-missing') return answer(NOT_IMPLEMENTED, NOT_IMPLEMENTED, error.message);
  return answer(BAD_REQUEST, WeixinErrorCode.INVALID_FILE_TYPE, error.message);
}

/** Says what went wrong with the call to Weixin without internals (addresses, stacks). */
function networkResponse(error: WeixinNetworkError): WeixinErrorResponse {
  if (error.timedOut) {
    return answer(
      GATEWAY_TIMEOUT,
      WeixinErrorCode.SYSTEM_BUSY,
      'Weixin did not answer in time; try again later',
    );
  }
  if (error instanceof WeixinDownloadTooLargeError) {
    return answer(
      BAD_GATEWAY,
      WeixinErrorCode.SYSTEM_BUSY,
      `the media from Weixin is larger than ${error.limit} bytes, the largest media Weixin serves`,
    );
  }
  const detail = error.status ? `HTTP ${error.status}` : (error.systemCode ?? 'no answer');
  return answer(
    BAD_GATEWAY,
    WeixinErrorCode.SYSTEM_BUSY,
    `Weixin could not be reached (${detail}); try again later`,
  );
}
