import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Every temp file of an upload is named `${MEDIA_UPLOAD_FILE_PREFIX}<uuid>`, for sweeping after a crash. */
export const MEDIA_UPLOAD_FILE_PREFIX = 'nestjs-weixin-media-upload-';

/**
 * The temp files of one request, tracked from the moment they are created: `cleanup()` closes every
 * descriptor (waiting for open ones) and removes every file, however the request ended. A closed session
 * creates no new file.
 */
export class UploadSession {
  private readonly files = new Map<string, WriteStream>();
  private removal?: Promise<void>;

  constructor(private readonly directory: string) {}

  /** A new temp file, readable by this process's user only (uploads may be private); undefined once closed. */
  createFile(): { path: string; stream: WriteStream } | undefined {
    if (this.removal) return undefined;
    const path = join(this.directory, `${MEDIA_UPLOAD_FILE_PREFIX}${randomUUID()}`);
    const stream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    // An error (ENOSPC) is the reader's to report; here it must only never be unhandled.
    stream.on('error', () => undefined);
    this.files.set(path, stream);
    return { path, stream };
  }

  /** Closes and removes every temp file; idempotent, never throws. */
  cleanup(): Promise<void> {
    this.removal ??= Promise.all([...this.files].map(([path, stream]) => removeFile(path, stream))).then(
      () => undefined,
    );
    return this.removal;
  }
}

async function removeFile(path: string, stream: WriteStream): Promise<void> {
  if (!stream.closed) {
    await new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.destroy();
    });
  }
  // Never throws: a clean-up failure must not replace the answer the request is owed.
  await unlink(path).catch(() => undefined);
}
