import type { MediaType } from '../interfaces/media.interface';

export type MediaValidationReason =
  'invalid-type' | 'empty' | 'too-large' | 'unsupported-format' | 'too-long' | 'unreadable';

/** The Weixin errcode the platform would have answered for each broken rule. */
export const ERRCODE_BY_REASON: Record<MediaValidationReason, number> = {
  'invalid-type': 40004,
  empty: 40006,
  'too-large': 40006,
  'unsupported-format': 40005,
  'too-long': 40005,
  unreadable: 40005,
};

export interface MediaValidationDetails {
  type?: MediaType;
  /** The rule's bound: bytes for sizes, milliseconds for durations. */
  limit?: number;
  /** The file's value measured against `limit`. */
  actual?: number;
}

/** A file breaks one of Weixin's rules; found locally, before any network call. */
export class MediaValidationError extends Error {
  override readonly name = 'MediaValidationError';
  readonly errcode: number;
  readonly type?: MediaType;
  readonly limit?: number;
  readonly actual?: number;

  constructor(
    readonly reason: MediaValidationReason,
    message: string,
    details: MediaValidationDetails = {},
  ) {
    super(message);
    this.errcode = ERRCODE_BY_REASON[reason];
    this.type = details.type;
    this.limit = details.limit;
    this.actual = details.actual;
  }

  toJSON(): Record<string, unknown> {
    const { name, reason, errcode, type, limit, actual, message } = this;
    return { name, reason, errcode, type, limit, actual, message };
  }
}
