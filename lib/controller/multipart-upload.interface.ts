import type { MediaType } from '../interfaces/media.interface';
import type { ResolvedUploadLimits } from './upload-limits';
import type { UploadSession } from './upload-session';

/** Limits on the multipart form besides the file size, so a hostile form cannot exhaust the server. */
export interface MediaUploadFormLimits {
  /** Text fields (only `type` is accepted). */
  fields: number;
  /** Bytes of a text field's value. */
  fieldSize: number;
  /** Bytes of a field's name. */
  fieldNameSize: number;
  /** Parts of the form, files and fields together. */
  parts: number;
  /** Header lines of one part. */
  headerPairs: number;
}

/** The uploaded file, described as multer's disk storage does (so code written for multer reads it). */
export interface MediaUploadFile {
  fieldname: string;
  originalname: string;
  encoding: string;
  mimetype: string;
  size: number;
  path: string;
  destination: string;
  filename: string;
}

export interface MultipartUploadOptions {
  /** The form field of the file. */
  fieldName: string;
  /** The text fields a form may carry besides the file. */
  allowedFields: readonly string[];
  /** The type from the query, when it came there; else a `type` field may set it. */
  type: MediaType | undefined;
  /** The largest file accepted for a type (undefined: not known yet). */
  fileSizeLimit(type: MediaType | undefined): number;
  limits: ResolvedUploadLimits;
  formLimits: MediaUploadFormLimits;
  /** Where the file is written. */
  session: UploadSession;
}

export interface ReceivedUpload {
  /** The text fields, by name. */
  fields: Record<string, string>;
  file?: MediaUploadFile;
}
