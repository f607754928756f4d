import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { constantTimeEqual } from '../common/constant-time-equal';
import { InjectSampleConfig, type SampleConfig } from '../config';

/** The header the upload page sends its token in; `Authorization: Bearer TOKEN` works as well. */
export const UPLOAD_TOKEN_HEADER = 'x-upload-token';

/**
 * The sample's guard for the media controller: a shared token (`SAMPLE_UPLOAD_TOKEN`, printed in the
 * start log). A real application puts its own authentication here.
 */
@Injectable()
export class UploadTokenGuard implements CanActivate {
  constructor(@InjectSampleConfig() protected readonly config: SampleConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const given = this.presentedToken(context.switchToHttp().getRequest<Request>());
    if (given === undefined) {
      throw new UnauthorizedException(
        `send the upload token from the start log in the ${UPLOAD_TOKEN_HEADER} header (or as a Bearer token)`,
      );
    }
    if (!constantTimeEqual(given, this.config.uploadToken)) {
      throw new UnauthorizedException(
        'the upload token is wrong: use the one from the start log (SAMPLE_UPLOAD_TOKEN)',
      );
    }
    return true;
  }

  protected presentedToken(request: Request): string | undefined {
    const header = request.headers[UPLOAD_TOKEN_HEADER];
    if (typeof header === 'string' && header !== '') return header;
    const [scheme, token] = (request.headers.authorization ?? '').split(' ');
    return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
  }
}
