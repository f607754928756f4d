/**
 * Preloaded (`node -r`) into a child process to act as an app where some optional peers are not installed:
 * `HIDE_PACKAGES=@nestjs/config,class-validator` makes `require` of those packages fail with MODULE_NOT_FOUND,
 * exactly as in an app that never installed them.
 */
import Module from 'node:module';

const hidden = new Set((process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean));
const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolve = loader._resolveFilename;

loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  const name = request
    .split('/')
    .slice(0, request.startsWith('@') ? 2 : 1)
    .join('/');
  if (hidden.has(name)) {
    throw Object.assign(new Error(`Cannot find module '${request}' (hidden by test/support/hide-packages)`), {
      code: 'MODULE_NOT_FOUND',
    });
  }
  return resolve.call(this, request, ...rest);
};
