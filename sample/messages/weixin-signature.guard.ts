import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../common/constant-time-equal';
import { InjectSampleConfig, type SampleConfig } from '../config';

/** Weixin's callback signature: SHA-1 (hex) of the token, timestamp and nonce, sorted and joined. */
export function weixinSignature(token: string, timestamp: string, nonce: string): string {
  return createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
}

/**
 * Lets a callback request through only when its `signature` query parameter proves it was signed with
 * the Official Account's Token (`WEIXIN_TOKEN`): 401 otherwise.
 */
@Injectable()
export class WeixinSignatureGuard implements CanActivate {
  constructor(@InjectSampleConfig() protected readonly config: SampleConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const { signature, timestamp, nonce } = context.switchToHttp().getRequest<Request>().query;
    if (typeof signature !== 'string' || typeof timestamp !== 'string' || typeof nonce !== 'string') {
      throw new UnauthorizedException(
        'a Weixin callback carries signature, timestamp and nonce in its query',
      );
    }
    const expected = weixinSignature(this.token(), timestamp, nonce);
    if (!constantTimeEqual(signature.toLowerCase(), expected)) {
      throw new UnauthorizedException(
        'the signature does not match: is WEIXIN_TOKEN the Token of the server settings?',
      );
    }
    return true;
  }

  /** The token requests are signed with; override to look it up per account. */
  protected token(): string {
    return this.config.weixin.callbackToken;
  }
}
