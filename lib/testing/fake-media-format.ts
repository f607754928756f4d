/**
 * The upload rules the fake enforces, written from Weixin's documentation on their own (not shared with
 * `lib/media-rules`), so the fake can catch the library's mistakes instead of repeating them.
 */
export type FakeMediaType = 'image' | 'voice' | 'video' | 'thumb';
export type FakeMediaFormat = 'jpeg' | 'png' | 'gif' | 'amr' | 'mp3' | 'mp4';

const MB = 1024 * 1024;

export interface FakeMediaRules {
  maxBytes: number;
  formats: readonly FakeMediaFormat[];
}

export const FAKE_MEDIA_RULES: Record<FakeMediaType, FakeMediaRules> = {
  image: { maxBytes: 10 * MB, formats: ['jpeg', 'png', 'gif'] },
  voice: { maxBytes: 2 * MB, formats: ['amr', 'mp3'] },
  video: { maxBytes: 10 * MB, formats: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, formats: ['jpeg'] },
};

/** Weixin judges the format by the part's filename extension first. */
const EXTENSION_FORMATS: Record<string, FakeMediaFormat> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.png': 'png',
  '.gif': 'gif',
  '.amr': 'amr',
  '.mp3': 'mp3',
  '.mp4': 'mp4',
};

export const FORMAT_CONTENT_TYPES: Record<FakeMediaFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

/** The extension of the filename a download is offered under. */
export const FORMAT_EXTENSIONS: Record<FakeMediaFormat, string> = {
  jpeg: 'jpg',
  png: 'png',
  gif: 'gif',
  amr: 'amr',
  mp3: 'mp3',
  mp4: 'mp4',
};

const CONTENT_TYPE_FORMATS = new Map<string, FakeMediaFormat>(
  Object.entries(FORMAT_CONTENT_TYPES).map(([format, type]) => [type, format as FakeMediaFormat]),
);

export function isFakeMediaType(value: unknown): value is FakeMediaType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(FAKE_MEDIA_RULES, value);
}

export function formatFromFilename(filename: string | undefined): FakeMediaFormat | undefined {
  if (!filename) return undefined;
  const dot = filename.lastIndexOf('.');
  if (dot < 0) return undefined;
  const extension = filename.slice(dot).toLowerCase();
  return Object.prototype.hasOwnProperty.call(EXTENSION_FORMATS, extension)
    ? EXTENSION_FORMATS[extension]
    : undefined;
}

export function formatFromContentType(contentType: string): FakeMediaFormat | undefined {
  return CONTENT_TYPE_FORMATS.get(contentType);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The most leading bytes `contentMatchesFormat` looks at. */
export const FORMAT_SIGNATURE_BYTES = 8;

/** True when the leading bytes are the signature of the format the extension claims. */
export function contentMatchesFormat(data: Buffer, format: FakeMediaFormat): boolean {
  switch (format) {
    case 'png':
      return data.subarray(0, 8).equals(PNG_SIGNATURE);
    case 'jpeg':
      return data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
    case 'gif': {
      const header = data.toString('latin1', 0, 6);
      return header === 'GIF87a' || header === 'GIF89a';
    }
    case 'amr':
      return data.toString('latin1', 0, 6) === '#!AMR\n';
    case 'mp3':
      // An ID3v2 tag, or straight into an MPEG audio frame (11 sync bits).
      return (
        data.toString('latin1', 0, 3) === 'ID3' ||
        (data.length >= 2 && data[0] === 0xff && (data[1] & 0xe0) === 0xe0)
      );
    case 'mp4':
      return data.length >= 8 && data.toString('latin1', 4, 8) === 'ftyp';
  }
}
