import { DamagedMediaError } from '../errors/damaged-media.error';

/**
 * AMR-NB in its storage format (RFC 4867 §5): the magic `#!AMR\n`, then frames of a one-byte header and a
 * payload whose size the frame type fixes. Speech and SID (comfort noise) frames play 20 ms each; NO_DATA
 * frames carry no audio (DTX gaps, encoder padding) and are not counted, which is how the durations in the
 * fixture manifest (test/fixtures/media/MANIFEST.json) are measured.
 */

export const AMR_MAGIC = '#!AMR\n';
const FRAME_MS = 20;
const NO_DATA = 15;

/**
 * Frame bytes (header included) by frame type: eight speech modes, SID, then 9-14 that storage files
 * never hold (0: treated as damage), and NO_DATA.
 */
const FRAME_BYTES = [13, 14, 16, 18, 20, 21, 27, 32, 6, 0, 0, 0, 0, 0, 0, 1];

export interface AmrAudio {
  /** Every whole frame, NO_DATA included. */
  frames: number;
  /** The frames that carry audio (speech or SID), 20 ms each. */
  durationMs: number;
}

/**
 * Walks the frames. AMR has no sync word, so a damaged header cannot be skipped: the rest of the file would
 * be read at the wrong boundaries, and its playing time is unknown. A last frame cut short is not counted.
 */
export function measureAmr(data: Buffer): AmrAudio {
  let offset = AMR_MAGIC.length;
  let frames = 0;
  let audioFrames = 0;
  while (offset < data.length) {
    const header = data[offset];
    const frameType = (header >> 3) & 0x0f;
    const length = FRAME_BYTES[frameType];
    // The first bit and the last two are padding that must be zero.
    if ((header & 0x83) !== 0 || length === 0) {
      throw new DamagedMediaError(
        `byte ${offset} (0x${header.toString(16).padStart(2, '0')}) is not an AMR-NB frame header, ` +
          `so the playing time after ${audioFrames * FRAME_MS} ms cannot be measured`,
      );
    }
    if (offset + length > data.length) break;
    frames++;
    if (frameType !== NO_DATA) audioFrames++;
    offset += length;
  }
  if (audioFrames === 0) {
    throw new DamagedMediaError('it has no audio frames after its #!AMR header');
  }
  return { frames, durationMs: audioFrames * FRAME_MS };
}
