import { loadOptionalPeer } from '../common/optional-peer';
import { MediaFitError } from '../errors/media-fit.error';

/**
 * The parts of sharp's API the fit uses. Declared here rather than imported: sharp is an optional peer, so
 * neither this package's types nor its build may need sharp's.
 */
export interface SharpImage {
  metadata(): Promise<{
    format?: string;
    width?: number;
    height?: number;
    orientation?: number;
    hasAlpha?: boolean;
  }>;
  stats(): Promise<{ isOpaque: boolean }>;
  rotate(): SharpImage;
  resize(width: number, height: number): SharpImage;
  flatten(options: { background: string }): SharpImage;
  jpeg(options: {
    quality: number;
    progressive: boolean;
    optimiseCoding: boolean;
    mozjpeg: boolean;
  }): SharpImage;
  png(options: { compressionLevel: number; palette?: boolean; quality?: number }): SharpImage;
  toBuffer(): Promise<Buffer>;
}

export interface SharpFactory {
  (
    input: string | Buffer,
    options: { limitInputPixels: number | false; sequentialRead: boolean },
  ): SharpImage;
  versions: { sharp?: string };
}

export const INSTALL_SHARP = 'install the optional package sharp (npm install sharp)';

/** Loads sharp on first use; an app that never fits an image never loads it. */
export function loadSharp(): { sharp?: SharpFactory; problem?: string } {
  try {
    const sharp = loadOptionalPeer<SharpFactory>('sharp', 'fitting images');
    return sharp ? { sharp } : { problem: `sharp is not installed: ${INSTALL_SHARP}` };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

export function sharpVersion(sharp: SharpFactory): string {
  return sharp.versions.sharp ?? 'unknown';
}

export function requireSharp(what: string): SharpFactory {
  const { sharp, problem } = loadSharp();
  if (!sharp) throw new MediaFitError('engine-missing', `${what} needs sharp: ${problem}`);
  return sharp;
}
