import { BadRequestException, Controller, Headers, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  MEDIA_TYPES,
  MediaFitError,
  MediaValidationError,
  TemporaryMediaService,
  WeixinApiError,
  type MediaType,
  type TemporaryMedia,
  type UploadProgress,
} from '../../lib';
import { UploadTokenGuard } from './upload-token.guard';

/** One line of the answer: progress while it works, then the result or the error. */
export type FitUploadLine =
  { progress: UploadProgress } | { result: FitUploadResult } | { error: { errcode: number; errmsg: string } };

export interface FitUploadResult {
  type: TemporaryMedia['type'];
  media_id: string;
  created_at: number;
  expires_at: number;
  reused: boolean;
  fitted?: TemporaryMedia['fitted'];
}

/**
 * The upload page's "fit to Weixin's rules" switch: the file comes as the raw body (any format, up to
 * `fit.maxInputBytes`), is fitted and uploaded by the library, and the answer streams one JSON line per
 * progress report (`fit`: seconds of media converted, `upload`: bytes sent to Weixin), then the result.
 */
@Controller('fit-upload')
@UseGuards(UploadTokenGuard)
export class FitUploadController {
  constructor(protected readonly media: TemporaryMediaService) {}

  @Post()
  async upload(
    @Query('type') type: string,
    @Headers('x-filename') filename: string | undefined,
    @Req() frameworkRequest: unknown,
    @Res() frameworkResponse: unknown,
  ): Promise<void> {
    // The Node request and response under Express's (themselves) or Fastify's (`raw`): the same code for both.
    const request = ((frameworkRequest as { raw?: unknown }).raw ?? frameworkRequest) as IncomingMessage;
    const response = ((frameworkResponse as { raw?: unknown }).raw ?? frameworkResponse) as ServerResponse;
    // Fastify: this route writes the raw response itself.
    (frameworkResponse as { hijack?: () => void }).hijack?.();
    if (!(MEDIA_TYPES as readonly string[]).includes(type)) {
      throw new BadRequestException('type must be image, voice, video or thumb');
    }
    const aborted = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) aborted.abort();
    });
    response.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
    });
    const send = (line: FitUploadLine) => response.write(`${JSON.stringify(line)}\n`);
    try {
      const media = await this.media.upload(type as MediaType, request, {
        fit: { trim: true },
        filename: filename ? decodeURIComponent(filename) : undefined,
        signal: aborted.signal,
        onProgress: (progress) => send({ progress }),
      });
      send({
        result: {
          type: media.type,
          media_id: media.mediaId,
          created_at: Math.floor(media.createdAt.getTime() / 1000),
          expires_at: Math.floor(media.expiresAt.getTime() / 1000),
          reused: media.reused,
          ...(media.fitted ? { fitted: media.fitted } : {}),
        },
      });
    } catch (error) {
      send({ error: describe(error) });
      // The rest of an unread body is not wanted.
      request.resume();
    }
    response.end();
  }
}

function describe(error: unknown): { errcode: number; errmsg: string } {
  if (error instanceof MediaValidationError || error instanceof WeixinApiError) {
    return { errcode: error.errcode, errmsg: error.message };
  }
  if (error instanceof MediaFitError) return { errcode: 40005, errmsg: error.message };
  return { errcode: -1, errmsg: 'the upload failed; see the sample log' };
}
