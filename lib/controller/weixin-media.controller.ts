import {
  Body,
  type CanActivate,
  Catch,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Post,
  Query,
  Res,
  SetMetadata,
  StreamableFile,
  type Type,
  UploadedFile,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { missingMediaHttpException } from '../validation/media-validation-http';
import {
  FASTIFY_ROUTE_CONFIG,
  nodeResponse,
  setResponseHeader,
  WEIXIN_MEDIA_UPLOAD_ROUTE,
} from './http-platform';
import { MediaUploadInterceptor } from './media-upload.interceptor';
import type { MediaUploadFile } from './multipart-upload.interface';
import { WeixinMediaExceptionFilter } from './weixin-media-exception.filter';
import type {
  DownloadedMediaStream,
  MediaSource,
  MediaType,
  TemporaryMedia,
  WeixinMediaControllerOptions,
} from '../interfaces';
import { type AccountMedia, TemporaryMediaService } from '../temporary-media.service';
import { checkedAppId, invalidAppIdHttpException, queryAppId } from './account-appid';
import { DEFAULT_CONTROLLER_PATH } from '../weixin-media.constants';
import { attachmentDisposition } from './attachment-disposition';
import type { UploadedMediaResponse, VideoUrlResponse } from './weixin-media-response.interface';
import { downloadFailedResponse } from '../errors/weixin-error-response';

/** A content type as `type/subtype`, nothing else (no parameters, no header tricks). */
const SAFE_CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i;

/** On the controller's own routes every failure is the library's to answer (a global guard's 401 too). */
@Catch()
class WeixinMediaRoutesExceptionFilter extends WeixinMediaExceptionFilter {
  protected override owns(): boolean {
    return true;
  }
}

/**
 * Weixin's temporary media API, served by the application itself, checked and tokened:
 * `POST /{path}?type=TYPE` with the file in the multipart field `media`, and `GET /{path}/{mediaId}`.
 * Mounted by `WeixinMediaModule.forRoot({ controller: { ... } })` through `createWeixinMediaController`;
 * subclass it to change a hook, and mount the subclass with `@Controller()` yourself. Express or Fastify.
 */
@UseFilters(WeixinMediaRoutesExceptionFilter)
export class WeixinMediaController {
  /**
   * Whether an `appid` form field alone (none in the URL) picks the account. Off unless the controller is
   * mounted public without guards: guards run before the body is read, so they can only check the URL's.
   */
  protected readonly acceptsFormAppId: boolean = false;
  /** Fit every upload (`controller.fit`): sources that do not pass are converted before they are sent. */
  protected readonly fit: boolean = false;

  constructor(@Inject(TemporaryMediaService) protected readonly media: TemporaryMediaService) {}

  /**
   * `curl -F media=@photo.jpg "http://host/weixin/media?type=image"`
   * answers 201 `{ type, media_id, created_at, expires_at }`.
   */
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @SetMetadata(FASTIFY_ROUTE_CONFIG, WEIXIN_MEDIA_UPLOAD_ROUTE)
  @UseInterceptors(MediaUploadInterceptor)
  async upload(
    @Query('type') queryType: unknown,
    @Body('type') fieldType: unknown,
    @Query('appid') queryAppIdValue: unknown,
    @Body('appid') fieldAppId: unknown,
    @UploadedFile() file: MediaUploadFile | undefined,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<UploadedMediaResponse> {
    if (!file?.path) throw missingMediaHttpException('no file in the form field "media"');
    const type = this.mediaType(queryType, fieldType);
    const media = this.accountMedia(this.uploadAppId(queryAppIdValue, fieldAppId));
    const signal = this.clientSignal(response);
    const uploaded = await media.upload(type, this.mediaSource(file), {
      signal,
      ...(this.fit ? { fit: true } : {}),
    });
    return this.toUploadResponse(uploaded);
  }

  /** The bytes with their content type and a safe attachment filename; for a video, `{ video_url }`. */
  @Get(':mediaId')
  async download(
    @Param('mediaId') mediaId: string,
    @Query('appid') queryAppIdValue: unknown,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<StreamableFile | VideoUrlResponse> {
    const account = this.accountMedia(queryAppId({ appid: queryAppIdValue }));
    const media = await account.downloadStream(mediaId, this.clientSignal(response));
    if (media.kind === 'video') return { video_url: media.videoUrl };
    return this.toStreamableFile(media, response);
  }

  /** The type from the query, else from the form (the upload interceptor checked that they agree). */
  protected mediaType(queryType: unknown, fieldType: unknown): MediaType {
    // The service checks it again and answers 40004 for anything that is not a media type.
    return (queryType ?? fieldType) as MediaType;
  }

  /**
   * The account of an upload: the URL's `appid` (the upload interceptor refused a different one in the form),
   * else the form's when `acceptsFormAppId`, else the default account (undefined).
   */
  protected uploadAppId(queryAppIdValue: unknown, fieldAppId: unknown): string | undefined {
    const fromUrl = queryAppId({ appid: queryAppIdValue });
    if (fromUrl !== undefined || fieldAppId === undefined) return fromUrl;
    if (!this.acceptsFormAppId) {
      throw invalidAppIdHttpException(
        'send the appid in the URL (?appid=...): the form field alone is not accepted on a guarded ' +
          'controller, because its guards cannot see it',
      );
    }
    return checkedAppId(fieldAppId, 'in the form');
  }

  /** The service for `appId` (an unknown one rejects with `UnknownAccountError`: 404), else the default account. */
  protected accountMedia(appId: string | undefined): AccountMedia {
    return appId === undefined ? this.media : this.media.forAccount(appId);
  }

  /** The temp file, under the name the client gave it (the service keeps only a safe base name). */
  protected mediaSource(file: MediaUploadFile): MediaSource {
    return { path: file.path, filename: file.originalname, contentType: file.mimetype };
  }

  protected toUploadResponse(media: TemporaryMedia): UploadedMediaResponse {
    return {
      type: media.type,
      media_id: media.mediaId,
      created_at: Math.floor(media.createdAt.getTime() / 1000),
      expires_at: Math.floor(media.expiresAt.getTime() / 1000),
      ...(media.fitted ? { fitted: media.fitted } : {}),
    };
  }

  protected toStreamableFile(
    media: Extract<DownloadedMediaStream, { kind: 'file' }>,
    response: unknown,
  ): StreamableFile {
    const type = SAFE_CONTENT_TYPE.test(media.contentType.split(';')[0].trim())
      ? media.contentType.split(';')[0].trim()
      : 'application/octet-stream';
    // The bytes are what Weixin says they are: no browser should guess otherwise.
    setResponseHeader(response, 'X-Content-Type-Options', 'nosniff');
    return new StreamableFile(media.stream, {
      type,
      disposition: attachmentDisposition(media.filename, media.mediaId),
      length: media.contentLength,
    }).setErrorHandler((error, handlerResponse) => {
      // Called by the Express adapter; Fastify ends a failed stream itself.
      const res = handlerResponse as unknown as ServerResponse;
      if (res.destroyed) return;
      if (res.headersSent) {
        // A truncated file must not look complete.
        res.destroy();
        return;
      }
      const { status, body } = downloadFailedResponse(error);
      res.statusCode = status;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.removeHeader('Content-Disposition');
      res.removeHeader('Content-Length');
      res.end(JSON.stringify(body));
    });
  }

  /** Aborts the Weixin call when the client goes away before its answer. */
  protected clientSignal(response: unknown): AbortSignal {
    const controller = new AbortController();
    const raw = nodeResponse(response);
    raw.once('close', () => {
      if (!raw.writableFinished) controller.abort();
    });
    return controller.signal;
  }
}

/**
 * The controller class `WeixinMediaModule` mounts for `controller: { path, guards, public }`: the routes of
 * `WeixinMediaController` at `path` (default `weixin/media`) behind `guards`.
 */
export function createWeixinMediaController(
  options: WeixinMediaControllerOptions = {},
): Type<WeixinMediaController> {
  const path =
    typeof options.path === 'string' && options.path.trim() !== '' ? options.path : DEFAULT_CONTROLLER_PATH;
  // Invalid guards are reported at bootstrap (see weixin-media-controller.options.ts), not thrown here.
  const guards = (Array.isArray(options.guards) ? options.guards : []).filter(isGuard);

  // Without any guard of its own, nobody's check could be skipped by an appid in the form.
  const acceptsFormAppId = options.public === true && guards.length === 0;
  const fit = options.fit === true;

  @Controller(path)
  @UseGuards(...guards)
  class MountedWeixinMediaController extends WeixinMediaController {
    protected override readonly acceptsFormAppId: boolean = acceptsFormAppId;
    protected override readonly fit = fit;
  }

  Object.defineProperty(MountedWeixinMediaController, 'name', { value: WeixinMediaController.name });
  return MountedWeixinMediaController;
}

/** A guard class, or an object with `canActivate`. */
export function isGuard(value: unknown): value is CanActivate | Type<CanActivate> {
  return (
    typeof value === 'function' ||
    (typeof value === 'object' && value !== null && typeof (value as CanActivate).canActivate === 'function')
  );
}
