import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { basename } from 'node:path';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaSourceError } from '../errors/media-source.error';
import { MediaValidationError } from '../errors/media-validation.error';
import { isPrivateAddress } from './private-address';

export interface UrlFetchOptions {
  /** Bytes the body may have; a larger declared length is refused before reading. */
  maxBytes: number;
  tooLarge: (bytes: number) => Error;
  allowPrivateUrls: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface FetchedUrl {
  body: IncomingMessage;
  /** The URL the body came from, after redirects. */
  url: URL;
  /** The last path segment of the final URL: a hint, the content decides the format. */
  name?: string;
  contentType?: string;
}

export const MAX_REDIRECTS = 3;

/**
 * Opens a URL source: `http:`/`https:` only, at most 3 redirects, and every address connected to (on the
 * first request and on each redirect) checked against loopback, private, link-local and unspecified
 * ranges, on the resolved address itself (a DNS answer can change between a check and the connection).
 * The caller reads the body with its size limit (see `urlSourceError` for its failures); the time limit
 * covers the whole fetch.
 */
export async function fetchUrl(url: URL, options: UrlFetchOptions): Promise<FetchedUrl> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(current, options, signal).catch((error: Error) => {
      if (timeout.aborted && !options.signal?.aborted) throw timedOut(current, options.timeoutMs);
      throw urlSourceError(current, error);
    });
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      if (redirects >= MAX_REDIRECTS) {
        throw unreadable(`the media URL redirected more than ${MAX_REDIRECTS} times (${hostOf(url)})`);
      }
      current = checkedUrl(redirectTarget(location, current));
      continue;
    }
    if (status < 200 || status >= 300) {
      response.destroy();
      throw unreadable(`the media URL answered HTTP ${status} (${hostOf(current)})`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.destroy();
      throw options.tooLarge(declared);
    }
    // The time limit goes on while the body is read.
    const onTimeout = () => response.destroy(timedOut(current, options.timeoutMs));
    signal.addEventListener('abort', onTimeout, { once: true });
    response.once('close', () => signal.removeEventListener('abort', onTimeout));
    const segment = decodeURIComponent(current.pathname.split('/').pop() ?? '');
    return {
      body: response,
      url: current,
      name: segment ? basename(segment) : undefined,
      contentType: response.headers['content-type'],
    };
  }
}

/** A URL source as given: a `URL` or `{ url }`, http(s) only. */
export function checkedUrl(value: URL | string): URL {
  let url: URL;
  try {
    url = value instanceof URL ? value : new URL(value);
  } catch {
    throw unreadable(`the media URL "${String(value).slice(0, 100)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw unreadable(`the media URL must be http: or https:, got ${url.protocol}`);
  }
  try {
    // The file's name is decoded from the path: a bad escape is refused now, before any request.
    decodeURIComponent(url.pathname);
  } catch (error) {
    throw new MediaSourceError('ERR_INVALID_URL', displayedUrl(url), {
      cause: error,
      detail: 'its path has a % not followed by two hex digits of UTF-8',
    });
  }
  return url;
}

/**
 * A raw failure of a URL source (the connection refused or reset, an answer that is not HTTP) as a
 * `MediaSourceError`; the library's own errors (a limit, the time limit) and aborts are answered as they are.
 */
export function urlSourceError(url: URL, error: unknown): unknown {
  if (
    !(error instanceof Error) ||
    error.name === 'AbortError' ||
    error instanceof MediaValidationError ||
    error instanceof MediaFitError ||
    error instanceof MediaSourceError
  ) {
    return error;
  }
  const code = (error as NodeJS.ErrnoException).code;
  return new MediaSourceError(typeof code === 'string' ? code : 'EIO', displayedUrl(url), { cause: error });
}

function redirectTarget(location: string, from: URL): URL {
  try {
    return new URL(location, from);
  } catch (error) {
    throw new MediaSourceError('ERR_INVALID_URL', displayedUrl(from), {
      cause: error,
      detail: 'it redirected to a Location that is not a valid URL',
    });
  }
}

function requestOnce(url: URL, options: UrlFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !options.allowPrivateUrls && isPrivateAddress(host)) {
      reject(privateAddress(url, host));
      return;
    }
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      signal,
      lookup: options.allowPrivateUrls ? undefined : guardedLookup(url),
      headers: { accept: '*/*', 'user-agent': 'nestjs-weixin-media' },
      agent: false,
    });
    request.once('socket', (socket) => {
      // The address actually connected to: also covers hosts that needed no lookup.
      socket.once('connect', () => {
        const address = socket.remoteAddress;
        if (!options.allowPrivateUrls && (address === undefined || isPrivateAddress(address))) {
          request.destroy(privateAddress(url, address ?? 'an unknown address'));
        }
      });
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

/** Resolves the host and refuses the connection when any address it resolves to is private. */
function guardedLookup(url: URL): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refusedAddress = addresses.find(({ address }) => isPrivateAddress(address));
      if (refusedAddress) return callback(privateAddress(url, refusedAddress.address), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function privateAddress(url: URL, address: string): MediaValidationError {
  return unreadable(
    `the media URL's host ${hostOf(url)} is at ${address}, a loopback, private, link-local or unspecified ` +
      'address; URL sources reach only public addresses unless the module option allowPrivateUrls is true',
  );
}

function timedOut(url: URL, timeoutMs: number): MediaValidationError {
  return unreadable(`the media URL (${hostOf(url)}) was not read within ${timeoutMs} ms (timeoutMs)`);
}

function unreadable(message: string): MediaValidationError {
  return new MediaValidationError('unreadable', message);
}

function hostOf(url: URL): string {
  return url.host;
}

/** The URL without what may hold a secret: credentials, query and fragment. */
function displayedUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
