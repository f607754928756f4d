import { MediaFitError } from '../errors/media-fit.error';
import { MediaValidationError } from '../errors/media-validation.error';
import type { MediaType } from '../interfaces/media.interface';
import { formatBytes, MEDIA_RULES } from '../media-rules/media-limits';
import { assertFramePixels } from './pixel-limit';
import type { SharpFactory, SharpImage as Sharp } from './sharp-engine';

/** Raster formats sharp decodes here; SVG and PDF are refused (they can name other files, and render slowly). */
const DECODABLE = new Set(['jpeg', 'png', 'gif', 'webp', 'tiff', 'heif', 'avif', 'jp2', 'jxl']);

/** A decoded image's header, as shown (EXIF orientation applied). */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
  hasAlpha: boolean;
}

export interface ImageFitResult {
  data: Buffer;
  format: 'jpeg' | 'png';
  width: number;
  height: number;
  /** How many encodes the search took. */
  encodes: number;
}

/**
 * Reads an image's header only and refuses, before any pixel is decoded, what is too many pixels
 * (a decompression bomb) or not a raster format sharp decodes here.
 */
export async function readImageHeader(
  sharp: SharpFactory,
  input: string | Buffer,
  type: MediaType,
  maxInputPixels: number,
): Promise<ImageHeader> {
  let metadata: Awaited<ReturnType<Sharp['metadata']>>;
  try {
    // The header only: the pixel count is checked below, with a message that names the limit.
    metadata = await sharp(input, { limitInputPixels: false, sequentialRead: true }).metadata();
  } catch (error) {
    throw new MediaFitError(
      'unsupported-input',
      `sharp cannot read this ${type} source: ${firstLine(error)}`,
      {
        type,
      },
    );
  }
  const { format, width, height } = metadata;
  if (!format || !DECODABLE.has(format) || !width || !height) {
    throw new MediaFitError(
      'unsupported-input',
      `this ${type} source is ${format ? `a ${format.toUpperCase()} image` : 'an image without a size'}; ` +
        `fit converts ${[...DECODABLE].map((name) => name.toUpperCase()).join(', ')} and BMP images`,
      { type },
    );
  }
  assertFramePixels(type, { width, height }, maxInputPixels);
  // Orientations 5 to 8 turn the picture a quarter: the shown width is the stored height.
  const turned = (metadata.orientation ?? 1) >= 5;
  return {
    format,
    width: turned ? height : width,
    height: turned ? width : height,
    hasAlpha: metadata.hasAlpha === true,
  };
}

/**
 * An image within 10 MB: PNG when it has real transparency and fits, otherwise JPEG at high quality,
 * lowered, then scaled down, each only as far as needed. Metadata is dropped, orientation applied.
 */
export async function fitImage(
  sharp: SharpFactory,
  input: string | Buffer,
  header: ImageHeader,
  maxInputPixels: number,
  signal?: AbortSignal,
): Promise<ImageFitResult> {
  const limit = MEDIA_RULES.image.maxBytes;
  const base = () => open(sharp, input, maxInputPixels).rotate();
  const decode = <T>(work: () => Promise<T>) => decoded('image', signal, work);
  let encodes = 0;
  const shown = { width: header.width, height: header.height };
  if (header.hasAlpha && !(await decode(() => base().stats())).isOpaque) {
    for (const options of [{ compressionLevel: 9 }, { compressionLevel: 9, palette: true, quality: 90 }]) {
      const data = await decode(() => base().png(options).toBuffer());
      encodes++;
      if (data.length <= limit) return { data, format: 'png', ...shown, encodes };
    }
  }
  for (const quality of [90, 80, 70]) {
    const data = await decode(() => jpeg(base(), quality).toBuffer());
    encodes++;
    if (data.length <= limit) return { data, format: 'jpeg', ...shown, encodes };
  }
  let scale = 1;
  let last = limit * 2;
  for (let tries = 0; tries < 6; tries++) {
    scale *= Math.sqrt((limit * 0.9) / last);
    const size = scaled(header, scale);
    const data = await decode(() => jpeg(base().resize(size.width, size.height), 80).toBuffer());
    encodes++;
    if (data.length <= limit) return { data, format: 'jpeg', ...size, encodes };
    last = data.length;
  }
  throw cannotReach('image', last, limit);
}

/** Thumb quality bounds: start high, never below the floor. */
const THUMB_QUALITY = 82;
const THUMB_MIN_QUALITY = 50;
/** A first guess of JPEG bits per pixel at that quality; the first encode measures the real figure. */
const GUESS_BITS_PER_PIXEL = 1.2;
/** Aim this far under the limit, so a scale from a measured size lands under it. */
const THUMB_AIM = 0.92;
/** A result at least this full is good enough: a larger one would not look different. */
const THUMB_GOOD = 0.8;
const THUMB_MIN_SIDE = 96;
const THUMB_MAX_ENCODES = 8;

/**
 * A baseline JPEG within 64 KB, aspect ratio kept: the size is guessed from the pixel count, then
 * corrected from each encode's measured size (bytes grow with pixels), growing back when the result is
 * far under the limit. Usually 2 to 4 encodes; quality drops only when even a small thumb is too big.
 */
export async function fitThumb(
  sharp: SharpFactory,
  input: string | Buffer,
  header: ImageHeader,
  maxInputPixels: number,
  signal?: AbortSignal,
): Promise<ImageFitResult> {
  const limit = MEDIA_RULES.thumb.maxBytes;
  const aim = limit * THUMB_AIM;
  const pixels = header.width * header.height;
  let scale = Math.min(1, Math.sqrt((aim * 8) / (pixels * GUESS_BITS_PER_PIXEL)));
  let quality = THUMB_QUALITY;
  let best: ImageFitResult | undefined;
  let encodes = 0;
  while (encodes < THUMB_MAX_ENCODES) {
    const size = scaled(header, scale);
    const image = open(sharp, input, maxInputPixels).rotate().resize(size.width, size.height);
    const data = await decoded('thumb', signal, () => jpeg(image, quality).toBuffer());
    encodes++;
    if (data.length <= limit) {
      if (!best || size.width > best.width) best = { data, format: 'jpeg', ...size, encodes };
      if (scale >= 1 || data.length >= limit * THUMB_GOOD || encodes >= 4) break;
      scale = Math.min(1, scale * Math.sqrt(aim / data.length));
      if (scaled(header, scale).width <= size.width) break;
      continue;
    }
    if (best && encodes >= 3) break;
    const next = scale * Math.sqrt(aim / data.length) * 0.97;
    if (Math.max(...Object.values(scaled(header, next))) < THUMB_MIN_SIDE && quality > THUMB_MIN_QUALITY) {
      quality = Math.max(THUMB_MIN_QUALITY, quality - 16);
      continue;
    }
    scale = next;
  }
  if (!best) throw cannotReach('thumb', limit * 2, limit);
  return { ...best, encodes };
}

/**
 * One decode of the source, after checking the signal (a search of several encodes stops between them): a
 * source whose header reads but whose pixels do not (a damaged PNG IDAT or VP8 payload) fails here, as a
 * typed failure rather than sharp's own error.
 */
async function decoded<T>(
  type: MediaType,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  try {
    return await work();
  } catch (error) {
    throw new MediaFitError(
      'failed',
      `sharp could not decode this ${type} source (damaged or truncated image data): ${firstLine(error)}`,
      { type },
    );
  }
}

function open(sharp: SharpFactory, input: string | Buffer, maxInputPixels: number): Sharp {
  // The pixel limit stops a decompression bomb at its header, before libvips allocates for it.
  return sharp(input, { limitInputPixels: maxInputPixels, sequentialRead: true });
}

function jpeg(image: Sharp, quality: number): Sharp {
  return image
    .flatten({ background: '#ffffff' })
    .jpeg({ quality, progressive: false, optimiseCoding: true, mozjpeg: false });
}

function scaled(header: ImageHeader, scale: number): { width: number; height: number } {
  return {
    width: Math.max(1, Math.round(header.width * scale)),
    height: Math.max(1, Math.round(header.height * scale)),
  };
}

function cannotReach(type: MediaType, bytes: number, limit: number): MediaValidationError {
  return new MediaValidationError(
    'too-large',
    `${type} could not be fitted within ${formatBytes(limit)} (the smallest try was ${formatBytes(bytes)})`,
    { type, limit, actual: bytes },
  );
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}
