import busboy from 'busboy';
import type { WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { MediaType } from '../interfaces/media.interface';
import { assertMediaType, tooLargeError } from '../media-rules/inspect-media';
import { formatBytes } from '../media-rules/media-limits';
import {
  UploadAbortedError,
  UploadBodyTooLargeError,
  UploadFormError,
  UploadTimeoutError,
} from '../errors/upload-errors';
import { curlHint, decodeFormDataName, describeError, quote } from './quoted-input';
import type { MediaUploadFile, MultipartUploadOptions, ReceivedUpload } from './multipart-upload.interface';
import { seconds } from './upload-limits';

/**
 * Reads one upload's `multipart/form-data` body from the Node request with busboy, against one budget: every
 * byte of the body (preamble, part headers, fields, parts busboy skips, bytes after the closing boundary)
 * counts, up to the file limit of the type plus `formOverheadBytes`. Settles at the first problem, after which
 * nothing more of the body is read: the caller answers and closes the connection.
 */
export function readMultipartUpload(
  request: IncomingMessage,
  options: MultipartUploadOptions,
): Promise<ReceivedUpload> {
  return new MultipartUploadReader(request, options).read();
}

class MultipartUploadReader {
  private type: MediaType | undefined;
  private readonly declared: number | undefined;
  private readonly fields: Record<string, string> = {};
  private file?: MediaUploadFile;
  private fileStream?: WriteStream;
  private fileSeen = false;
  private fileBytes = 0;
  private fileOver = false;
  private overBudget = false;
  private filePart?: Readable;
  private fileWritten = false;
  private parsed = false;
  private received = 0;
  private lastProgress = Date.now();
  private readonly started = Date.now();
  private settled = false;
  private parser?: busboy.Busboy;
  private watchdog?: NodeJS.Timeout;
  private resolve!: (upload: ReceivedUpload) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly request: IncomingMessage,
    private readonly options: MultipartUploadOptions,
  ) {
    this.type = options.type;
    const length = request.headers['content-length'];
    this.declared = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
  }

  read(): Promise<ReceivedUpload> {
    const done = new Promise<ReceivedUpload>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.declared !== undefined && this.declared > this.budget()) {
      // Refused before a byte is read: the request says it is larger than anything accepted.
      this.fail(tooLargeError(this.type, this.declared, 'declared'));
      return done;
    }
    try {
      this.parser = this.createParser();
    } catch (error) {
      this.fail(new UploadFormError(`the multipart/form-data body is malformed (${describeError(error)})`));
      return done;
    }
    this.request.on('data', this.onData);
    this.request.once('end', this.onEnd);
    this.request.once('close', this.onClose);
    this.request.once('error', this.onAbort);
    this.watchdog = setInterval(this.watch, this.tick());
    this.watchdog.unref();
    return done;
  }

  /** The most bytes the whole body may have: the file limit of the type known now, plus the form's share. */
  private budget(): number {
    return this.options.fileSizeLimit(this.type) + this.options.limits.formOverheadBytes;
  }

  private createParser(): busboy.Busboy {
    const { formLimits } = this.options;
    const parser = busboy({
      headers: this.request.headers,
      // Browsers and curl send UTF-8 filenames as raw bytes; latin1 would garble every Chinese name.
      defParamCharset: 'utf8',
      limits: { ...formLimits },
    });
    parser.on('file', (name: string, stream: Readable, info: busboy.FileInfo) =>
      this.onFile(name, stream, info),
    );
    parser.on('field', (name: string, value: string, info: busboy.FieldInfo) =>
      this.onField(name, value, info),
    );
    parser.on('partsLimit', () => this.fail(new UploadFormError('the form has too many parts')));
    parser.on('fieldsLimit', () => this.fail(new UploadFormError('the form has too many fields')));
    parser.on('error', (error: unknown) =>
      this.fail(new UploadFormError(`the multipart/form-data body is malformed (${describeError(error)})`)),
    );
    parser.on('finish', () => {
      this.parsed = true;
      this.succeedWhenDone();
    });
    return parser;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    this.lastProgress = Date.now();
    if (this.received > this.budget()) {
      // Past the budget: nothing more is read. This last chunk (already in memory) still goes to the parser, so
      // a file part that it carries over its limit is reported as the file's size, in the rules' words.
      this.request.pause();
      this.request.off('data', this.onData);
      this.parser!.write(chunk);
      // What the file part holds back (waiting for the disk) is counted, not written, before the verdict.
      this.overBudget = true;
      this.filePart?.resume();
      setImmediate(() => this.failOverBudget());
      return;
    }
    if (!this.parser!.write(chunk)) {
      this.request.pause();
      this.parser!.once('drain', () => {
        if (!this.settled) this.request.resume();
      });
    }
  };

  private readonly onEnd = (): void => {
    this.parser?.end();
  };

  private readonly onClose = (): void => {
    if (!this.request.complete) this.fail(new UploadAbortedError());
  };

  private readonly onAbort = (): void => this.fail(new UploadAbortedError());

  private onFile(name: string, stream: Readable, info: busboy.FileInfo): void {
    // busboy destroys a part with an error when the form is cut off or the reader gives up.
    stream.on('error', () => undefined);
    if (name !== this.options.fieldName) {
      stream.resume();
      const message = `the file must be in the form field "${this.options.fieldName}", not in ${quote(name)}`;
      return this.fail(new UploadFormError(message));
    }
    if (this.fileSeen) {
      stream.resume();
      return this.fail(
        new UploadFormError(`send exactly one file, in the form field "${this.options.fieldName}"`),
      );
    }
    this.fileSeen = true;
    this.filePart = stream;
    const created = this.options.session.createFile();
    if (!created) return void stream.resume();
    const { path, stream: out } = created;
    this.fileStream = out;
    this.file = {
      fieldname: name,
      originalname: decodeFormDataName(info.filename ?? ''),
      encoding: info.encoding,
      mimetype: info.mimeType,
      size: 0,
      path,
      destination: dirname(path),
      filename: basename(path),
    };
    out.once('error', (error) => this.fail(error));
    out.on('drain', () => stream.resume());
    stream.on('data', (chunk: Buffer) => {
      this.fileBytes += chunk.length;
      if (this.fileOver || this.overBudget) return;
      if (this.fileBytes > this.options.fileSizeLimit(this.type)) {
        // Over the limit: nothing more is written, but the part is still counted (within the body's budget)
        // so the answer can say the file's real size, as the service and the pipes do.
        this.fileOver = true;
        return;
      }
      if (!out.write(chunk)) stream.pause();
    });
    stream.once('end', () => {
      if (this.fileOver) return this.fail(tooLargeError(this.type, this.fileBytes));
      this.file!.size = this.fileBytes;
      out.end();
    });
    out.once('close', () => {
      this.fileWritten = true;
      this.succeedWhenDone();
    });
  }

  private onField(name: string, value: string, info: busboy.FieldInfo): void {
    const { fieldName, allowedFields } = this.options;
    if (info.nameTruncated || info.valueTruncated) {
      return this.fail(new UploadFormError('a form field name or value is too long'));
    }
    if (name === fieldName) {
      return this.fail(new UploadFormError(`"${fieldName}" must be a file ${curlHint(fieldName)}, not text`));
    }
    if (!allowedFields.includes(name)) {
      const allowed = [fieldName, ...allowedFields].map((field) => `"${field}"`).join(', ');
      return this.fail(new UploadFormError(`unexpected form field ${quote(name)}: send only ${allowed}`));
    }
    this.fields[name] = value;
    if (name === 'type') this.onTypeField(value);
  }

  /** A `type` field: checked at once, and from now on the file and the body are held to its limit. */
  private onTypeField(value: string): void {
    try {
      assertMediaType(value);
    } catch (error) {
      return this.fail(error);
    }
    if (this.options.type !== undefined) return; // the interceptor compares the two once the form is read
    this.type = value;
    if (this.fileWritten && this.fileBytes > this.options.fileSizeLimit(value)) {
      this.fail(tooLargeError(value, this.fileBytes));
    }
  }

  private failOverBudget(): void {
    const limit = this.options.fileSizeLimit(this.type);
    if (this.fileBytes > limit) return this.fail(tooLargeError(this.type, this.fileBytes, 'at-least'));
    const budget = this.budget();
    const message =
      `the request body is larger than ${formatBytes(budget)} (the file limit of ` +
      `${this.type ?? 'any type'}, ${formatBytes(limit)}, plus ${formatBytes(budget - limit)} for the form); ` +
      'send only the file and the type';
    this.fail(new UploadBodyTooLargeError(message, budget, this.received));
  }

  /** Ends a stalled body, and one slower than the lowest accepted average rate. */
  private readonly watch = (): void => {
    const { idleTimeoutMs, minBytesPerSecond, minBodyTimeMs } = this.options.limits;
    const now = Date.now();
    if (now - this.lastProgress >= idleTimeoutMs) {
      return this.fail(new UploadTimeoutError(`the upload sent no data for ${seconds(idleTimeoutMs)}`));
    }
    const bytes = Math.max(this.declared ?? 0, this.received);
    const allowed = Math.max(minBodyTimeMs, (bytes / minBytesPerSecond) * 1000);
    if (now - this.started > allowed) {
      this.fail(
        new UploadTimeoutError(
          `the upload is too slow: ${formatBytes(this.received)} in ${seconds(now - this.started)}; ` +
            `the body must arrive within ${seconds(allowed)} (at least ${formatBytes(minBytesPerSecond)}/s)`,
        ),
      );
    }
  };

  private tick(): number {
    const { idleTimeoutMs, minBodyTimeMs } = this.options.limits;
    return Math.max(10, Math.min(1000, Math.floor(Math.min(idleTimeoutMs, minBodyTimeMs) / 4)));
  }

  private succeedWhenDone(): void {
    if (!this.parsed || (this.fileStream && !this.fileWritten) || this.settled) return;
    this.settle();
    this.resolve({ fields: this.fields, file: this.file });
  }

  /** The first failure wins; nothing more of the body is read (not parsed, written or drained). */
  private fail(error: unknown): void {
    if (this.settled) return;
    this.settle();
    this.request.pause();
    this.reject(error);
  }

  private settle(): void {
    this.settled = true;
    clearInterval(this.watchdog);
    this.request.off('data', this.onData);
    this.request.off('end', this.onEnd);
    this.request.off('close', this.onClose);
    this.request.off('error', this.onAbort);
    const parser = this.parser;
    if (parser && !parser.writableFinished) {
      parser.removeAllListeners();
      parser.on('error', () => undefined);
      parser.destroy();
    }
  }
}
