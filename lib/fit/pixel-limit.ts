import { MediaFitError } from '../errors/media-fit.error';
import type { MediaType } from '../interfaces/media.interface';

/** Refuses a frame over the limit, from its size in a header, before anything decodes it. */
export function assertFramePixels(
  type: MediaType,
  frame: { width: number; height: number },
  limit: number,
): void {
  if (frame.width * frame.height > limit) throw tooManyPixels(type, frame.width, frame.height, limit);
}

function tooManyPixels(type: MediaType, width: number, height: number, limit: number): MediaFitError {
  const megapixels = (pixels: number) => `${+(pixels / 1e6).toFixed(1)} megapixels`;
  return new MediaFitError(
    'input-too-large',
    `this ${type} source is ${width}×${height} (${megapixels(width * height)}); fit decodes at most ` +
      `${megapixels(limit)} (fit.maxInputPixels)`,
    { type, limit, actual: width * height },
  );
}
