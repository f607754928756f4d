import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaSourceError } from '../errors/media-source.error';
import type { MediaSource, MediaType } from '../interfaces/media.interface';
import { openFileContent, type FileContent } from '../media-rules/file-content';
import {
  bufferChunks,
  bufferContent,
  type MediaChunks,
  type MediaContent,
} from '../media-rules/media-content';
import { tooLargeError } from '../media-rules/inspect-media';
import { MEDIA_RULES } from '../media-rules/media-limits';
import { FileDigestMemo } from './file-digest-memo';
import type { WholeFileBuffer, WholeFileReads } from './whole-file-reads';
import { checkedUrl, fetchUrl, urlSourceError } from './url-media-source';

/** How much of a file one read takes for an upload: few reads, little memory per upload. */
const FILE_CHUNK_BYTES = 256 * 1024;
/**
 * Hashing before the upload reads smaller chunks: 32 concurrent new 10 MiB files hold 4 MiB of hash buffers
 * instead of 16 (`largeUpload.memory` in bench/results.json).
 */
const HASH_CHUNK_BYTES = 64 * 1024;

/** A media source made readable any number of times: by position for the rules, in chunks per upload try. */
export interface OpenedMedia {
  readonly content: MediaContent;
  /** The whole content when it is in memory (a Buffer source); files and spooled streams are streamed. */
  readonly data?: Buffer;
  /** The name the source came with, if any (never a temp file's name). */
  readonly name?: string;
  /** The content type the source declared (not trusted for the format). */
  readonly declaredType?: string;
  /** The file holding the content, when it is on disk (a path source or a spooled stream or URL). */
  readonly path?: string;
  /** SHA-256 of the content, hex. */
  sha256(): Promise<string>;
  /** The content from its first byte, for one upload try; a file is read through its one open descriptor. */
  readChunks(): MediaChunks;
  /** Closes files and removes the temp file a stream was spooled to. */
  close(): Promise<void>;
}

export interface OpenMediaOptions {
  signal?: AbortSignal;
  /** How many bytes a stream or URL may carry before reading stops. @default the type's size limit */
  maxBytes?: number;
  /** The error for a stream or URL over `maxBytes` (`atLeast`: reading stopped there). */
  tooLarge?: (bytes: number, atLeast: boolean) => Error;
  /** Let URL sources reach loopback, private and link-local addresses. @default false */
  allowPrivateUrls?: boolean;
  /** The time limit of fetching a URL source, in milliseconds. @default 30000 */
  urlTimeoutMs?: number;
  /** The budget small files are read whole within (the module's); without it, files are read by position. */
  wholeFileReads?: WholeFileReads;
  /** The digests of files read before, by file version (the module's); without it, a file is hashed anew. */
  fileDigests?: FileDigestMemo;
}

/** What a source says about itself besides its content. */
interface Described {
  name?: string;
  declaredType?: string;
}

const DEFAULT_URL_TIMEOUT_MS = 30_000;

/**
 * Opens any `MediaSource`. Buffers are used in place; files are read by position; streams and URLs are
 * spooled to a temp file (hashed on the way) and cut off as soon as they pass the size limit (the type's,
 * or `maxBytes`), so memory stays bounded and no stream is read further than the rules allow.
 */
export async function openMediaSource(
  source: MediaSource,
  type: MediaType,
  options: OpenMediaOptions = {},
): Promise<OpenedMedia> {
  const { signal } = options;
  if (Buffer.isBuffer(source) || source instanceof Uint8Array) {
    return openBuffer(toBuffer(source));
  }
  if (typeof source === 'string') {
    return openFile(source, options);
  }
  const limit = {
    maxBytes: options.maxBytes ?? MEDIA_RULES[type].maxBytes,
    tooLarge: options.tooLarge ?? ((bytes: number, atLeast: boolean) => tooLargeError(type, bytes, atLeast)),
  };
  if (isReadableStream(source)) {
    return spoolStream(source, limit, signal);
  }
  if (source instanceof URL || isUrlReference(source)) {
    const fetched = await fetchUrl(checkedUrl(source instanceof URL ? source : source.url), {
      maxBytes: limit.maxBytes,
      tooLarge: (bytes) => limit.tooLarge(bytes, false),
      allowPrivateUrls: options.allowPrivateUrls === true,
      timeoutMs: options.urlTimeoutMs ?? DEFAULT_URL_TIMEOUT_MS,
      signal,
    });
    const described = { name: fetched.name, declaredType: fetched.contentType };
    return spoolStream(fetched.body, limit, signal, described).catch((error) => {
      throw urlSourceError(fetched.url, error);
    });
  }
  if (source && typeof source === 'object') {
    const named = source as {
      originalname?: string;
      filename?: string;
      mimetype?: string;
      contentType?: string;
    };
    // A Multer disk file's `filename` is its random temp name; the user's name is `originalname`.
    const name = named.originalname ?? named.filename;
    const declaredType = named.contentType ?? named.mimetype;
    const buffer: unknown = 'buffer' in source ? source.buffer : undefined;
    if (buffer instanceof Uint8Array) {
      return openBuffer(toBuffer(buffer), { name, declaredType });
    }
    if ('path' in source && typeof source.path === 'string') {
      return openFile(source.path, options, { name, declaredType });
    }
  }
  throw new TypeError(
    'Unsupported media source: pass a Buffer, a Uint8Array, a file path, a readable stream, ' +
      '{ path, filename?, contentType? } or { buffer, originalname?, mimetype? } (a Multer file)',
  );
}

function openBuffer(buffer: Buffer, { name, declaredType }: Described = {}): OpenedMedia {
  let hash: string | undefined;
  return {
    content: bufferContent(buffer),
    data: buffer,
    name,
    declaredType,
    sha256: async () => (hash ??= createHash('sha256').update(buffer).digest('hex')),
    readChunks: () => bufferChunks(buffer),
    close: async () => undefined,
  };
}

async function openFile(
  path: string,
  { wholeFileReads, fileDigests }: OpenMediaOptions,
  { name, declaredType }: Described = {},
): Promise<OpenedMedia> {
  const content = await openFileContent(path).catch((error: NodeJS.ErrnoException) => {
    throw new MediaSourceError(error.code ?? 'EIO', resolve(path), { cause: error });
  });
  // Without the module's memo, one for this opening alone: the file is hashed at most once.
  const digests = fileDigests ?? new FileDigestMemo(1);
  const held = wholeFileReads?.take(content.size);
  if (held) return readWholeFile(path, content, { name, declaredType }, held, digests);
  let hash: Promise<string> | undefined;
  return {
    content,
    name: name ?? basename(path),
    declaredType,
    path,
    sha256: () =>
      (hash ??= digests.digest(content.identity, () => hashChunks(content.chunks(HASH_CHUNK_BYTES)))),
    readChunks: () => content.chunks(FILE_CHUNK_BYTES),
    close: () => content.close(),
  };
}

/**
 * A small file read in one go and its descriptor closed at once: the rules, the hash and every try then
 * read memory, which costs a fraction of a stream per try (most uploads are images and thumbs).
 */
async function readWholeFile(
  path: string,
  content: FileContent,
  { name, declaredType }: Described,
  held: WholeFileBuffer,
  digests: FileDigestMemo,
): Promise<OpenedMedia> {
  let data: Buffer;
  try {
    data = await content.readInto(held.buffer, 0);
  } catch (error) {
    held.release();
    throw new MediaSourceError((error as NodeJS.ErrnoException).code ?? 'EIO', resolve(path), {
      cause: error,
    });
  } finally {
    await content.close();
  }
  const opened = openBuffer(data, { name: name ?? basename(path), declaredType });
  return {
    ...opened,
    // The buffer is reused after close (whole-file-reads.ts): the rules and fit read copies, never views of it.
    content: {
      size: data.length,
      inMemory: true,
      read: async (offset, length) => Buffer.from(await opened.content.read(offset, length)),
    },
    path,
    sha256: () => digests.digest(content.identity, opened.sha256),
    // Closed once the upload settled, and a call to Weixin settles only once its body was written out.
    close: async () => held.release(),
  };
}

async function spoolStream(
  stream: NodeJS.ReadableStream,
  { maxBytes, tooLarge }: { maxBytes: number; tooLarge: (bytes: number, atLeast: boolean) => Error },
  signal: AbortSignal | undefined,
  { name, declaredType }: Described = {},
): Promise<OpenedMedia> {
  const tempPath = join(tmpdir(), `nestjs-weixin-media-${randomUUID()}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer | string, _encoding, callback) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += data.length;
      if (bytes > maxBytes) {
        return callback(tooLarge(bytes, true));
      }
      hash.update(data);
      callback(null, data);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(tempPath), { signal });
  } catch (error) {
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  const digest = hash.digest('hex');
  // Read by position, never whole: its digest is known, so a reuse hit need not read it back.
  const opened = await openFile(tempPath, {}, { declaredType }).catch(async (error) => {
    await unlink(tempPath).catch(() => undefined);
    throw error;
  });
  return {
    ...opened,
    // Never the temp file's name: only a name the stream itself carried.
    name: name ?? streamName(stream),
    sha256: async () => digest,
    close: async () => {
      await opened.close();
      await unlink(tempPath).catch(() => undefined);
    },
  };
}

function isUrlReference(value: unknown): value is { url: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { url?: unknown }).url === 'string' &&
    !('path' in value) &&
    !('buffer' in value)
  );
}

function toBuffer(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function isReadableStream(value: unknown): value is NodeJS.ReadableStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeJS.ReadableStream).pipe === 'function' &&
    typeof (value as NodeJS.ReadableStream)[Symbol.asyncIterator] === 'function'
  );
}

/** `fs.createReadStream(path)` knows its file's name. */
function streamName(stream: NodeJS.ReadableStream): string | undefined {
  const path = (stream as { path?: unknown }).path;
  return typeof path === 'string' ? basename(path) : undefined;
}

async function hashChunks(chunks: MediaChunks): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}
