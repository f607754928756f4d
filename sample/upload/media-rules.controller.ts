import { Controller, Get } from '@nestjs/common';
import {
  FORMAT_EXTENSIONS,
  MEDIA_RULES,
  type MediaFormat,
  type MediaType,
  type MediaTypeRules,
} from '../../lib';

/** Where the sample mounts the library's media controller. */
export const MEDIA_CONTROLLER_PATH = 'weixin/media';

export interface UploadPageSettings {
  /** Where the page uploads to and downloads from, relative to the page (a proxy's path prefix keeps working). */
  mediaPath: string;
  /** The library's rules per type, so the page shows the same numbers the server applies. */
  rules: Record<MediaType, MediaTypeRules>;
  /** The file extension of each format, for the file picker's `accept`. */
  extensions: Record<MediaFormat, string>;
}

/** What the upload page needs to know: public, no secrets. */
@Controller('rules')
export class MediaRulesController {
  @Get()
  rules(): UploadPageSettings {
    return { mediaPath: MEDIA_CONTROLLER_PATH, rules: MEDIA_RULES, extensions: FORMAT_EXTENSIONS };
  }
}
