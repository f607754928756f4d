import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { CallbackRefusedError } from '../errors/callback-refused.error';
import { sendText } from '../controller/http-platform';

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
    // The body was not read to its end (too large, too slow): the connection goes with the answer.
    const unread = refusal.reason === 'too-large' || refusal.reason === 'timeout';
    sendText(
      response,
      refusal.status,
      'text/plain; charset=utf-8',
      body,
      unread ? { Connection: 'close' } : {},
    );
  }
}
