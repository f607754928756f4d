import { Injectable, type NestMiddleware, PayloadTooLargeException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Weixin messages are a few hundred bytes; anything near this is not one. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Reads the callback's XML body into `req.body` as text (Nest's default parsers only know JSON and
 * forms), whatever content type the sender declared, and refuses oversized bodies with 413.
 */
@Injectable()
export class XmlBodyMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    if (typeof req.body === 'string' || req.readableEnded) return next();
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_MESSAGE_BYTES) return next(tooLarge());

    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      next(error);
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > MAX_MESSAGE_BYTES) {
        req.resume(); // drain the rest so the 413 can be sent
        return settle(tooLarge());
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!settled) req.body = Buffer.concat(chunks).toString('utf8');
      settle();
    });
    req.once('error', settle);
  }
}

function tooLarge(): PayloadTooLargeException {
  return new PayloadTooLargeException(`a Weixin message is at most ${MAX_MESSAGE_BYTES / 1024} KB`);
}
