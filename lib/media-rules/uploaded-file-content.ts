import { openFileContent } from './file-content';
import { bufferContent, type MediaContent } from './media-content';

/** The parts of an `Express.Multer.File` the rules use: memory storage sets `buffer`, disk storage `path`. */
export interface UploadedMediaFile {
  buffer?: Buffer | Uint8Array;
  path?: string;
  originalname?: string;
  mimetype?: string;
  size?: number;
}

/**
 * The content of an uploaded file, read in place (a buffer) or by position (a file on disk), or undefined
 * when the object holds neither. `close` releases the file handle; call it when done.
 */
export async function uploadedFileContent(
  file: UploadedMediaFile,
): Promise<(MediaContent & { close(): Promise<void> }) | undefined> {
  const view = file.buffer;
  if (view instanceof Uint8Array) {
    const buffer = Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    return { ...bufferContent(buffer), close: async () => undefined };
  }
  if (typeof file.path === 'string' && file.path !== '') {
    return openFileContent(file.path);
  }
  return undefined;
}
