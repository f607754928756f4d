import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { CallbackRefusedError } from '../errors/callback-refused.error';
import { isFastifyReply, nodeResponse } from '../controller/http-platform';

/**
 * Answers a refused callback request with its status (401, 400, 413, 408) and a short text naming the
 * rule. When the body was not read to its end (too large, too slow) the connection is closed after it.
 */
@Catch(CallbackRefusedError)
export class CallbackRefusalFilter implements ExceptionFilter<CallbackRefusedError> {
  protected readonly logger = new Logger('WeixinCallback');

  catch(refusal: CallbackRefusedError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<unknown>();
    this.logger.debug(`Refused a callback request (${refusal.status} ${refusal.reason}): ${refusal.message}`);
    const body = `${refusal.reason}: ${refusal.message}`;
    const unread = refusal.reason === 'too-large' || refusal.reason === 'timeout';
    if (isFastifyReply(response)) {
      response.code(refusal.status).header('Content-Type', 'text/plain; charset=utf-8');
      if (unread) response.header('Connection', 'close');
      response.send(body);
      return;
    }
    const raw = nodeResponse(response);
    if (raw.headersSent) return;
    raw.statusCode = refusal.status;
    raw.setHeader('Content-Type', 'text/plain; charset=utf-8');
    raw.setHeader('Content-Length', Buffer.byteLength(body));
    if (unread) raw.setHeader('Connection', 'close');
    raw.end(body);
  }
}
