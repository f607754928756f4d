/**
 * The JS-SDK's high-definition voice (`media/get/jssdk`) is headerless 16 kHz wideband Speex: 60-byte
 * frames of 20 ms, back to back (weixin-api.md, "High-definition voice"). No demuxer reads that, so each
 * frame becomes one FLV audio tag (codec Speex, 16 kHz mono), the framing ffmpeg's flv demuxer and Speex
 * decoders know.
 */

export const SPEEX_FRAME_BYTES = 60;
export const SPEEX_FRAME_MS = 20;

/** 'FLV', version 1, audio only, a 9-byte header; then PreviousTagSize0. */
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x04, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0]);
const TAG_HEADER_BYTES = 11;
const AUDIO_TAG = 8;
/** SoundFormat 11 (Speex); the FLV spec fixes rate 0, 16-bit, mono for it: 16 kHz mono. */
const SPEEX_AUDIO_HEADER = 0xb2;

export interface FramedSpeex {
  /** An FLV stream of one audio tag per frame. */
  flv: Buffer;
  /** Whole frames; a last frame cut short is left out, as Weixin's own decoder reads whole frames only. */
  frames: number;
}

export function speexAsFlv(speex: Buffer): FramedSpeex {
  const frames = Math.floor(speex.length / SPEEX_FRAME_BYTES);
  const tagBytes = TAG_HEADER_BYTES + 1 + SPEEX_FRAME_BYTES;
  const flv = Buffer.alloc(FLV_HEADER.length + frames * (tagBytes + 4));
  FLV_HEADER.copy(flv);
  let at = FLV_HEADER.length;
  for (let frame = 0; frame < frames; frame++) {
    const timestamp = frame * SPEEX_FRAME_MS;
    flv[at] = AUDIO_TAG;
    flv.writeUIntBE(1 + SPEEX_FRAME_BYTES, at + 1, 3);
    flv.writeUIntBE(timestamp & 0xffffff, at + 4, 3);
    flv[at + 7] = timestamp >>> 24;
    // Stream id (3 bytes) stays 0.
    flv[at + TAG_HEADER_BYTES] = SPEEX_AUDIO_HEADER;
    speex.copy(flv, at + TAG_HEADER_BYTES + 1, frame * SPEEX_FRAME_BYTES, (frame + 1) * SPEEX_FRAME_BYTES);
    flv.writeUInt32BE(tagBytes, at + tagBytes);
    at += tagBytes + 4;
  }
  return { flv, frames };
}
