import type { ModuleMetadata, Provider } from '@nestjs/common';
import type { WeixinMediaControllerOptions } from '../interfaces';
import { WEIXIN_MEDIA_FITTER } from '../weixin-media.constants';
import type { MediaFitter } from '../fit/media-fitter';
import {
  uploadLimitsProblems,
  WEIXIN_MEDIA_CONTROLLER_FIT_LIMIT,
  WEIXIN_MEDIA_UPLOAD_LIMITS,
} from './upload-limits';
import { WEIXIN_MEDIA_CONTROLLER_MOUNTED } from './weixin-media-http.setup';
import { createWeixinMediaController, isGuard } from './weixin-media.controller';

/**
 * When the controller is mounted: the problems of its options, which the module's options provider lists in
 * the same bootstrap error as its own (one error names every problem).
 */
export const WEIXIN_MEDIA_CONTROLLER_PROBLEMS = Symbol('WEIXIN_MEDIA_CONTROLLER_PROBLEMS');

/** Everything wrong with the `controller` option, as sentences that say how to fix it. */
export function controllerOptionsProblems(options: unknown): string[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return ['controller must be false or an object { path?, guards?, public?, limits?, fit? }'];
  }
  const { path, guards, public: isPublic, limits, fit } = options as Record<string, unknown>;
  const problems: string[] = [...uploadLimitsProblems(limits)];
  if (path !== undefined && (typeof path !== 'string' || path.trim() === '')) {
    problems.push(
      `controller.path must be a non-empty string such as 'weixin/media', got ${JSON.stringify(path)}`,
    );
  }
  if (fit !== undefined && typeof fit !== 'boolean') {
    problems.push(`controller.fit must be true or false, got ${JSON.stringify(fit)}`);
  }
  if (isPublic !== undefined && typeof isPublic !== 'boolean') {
    problems.push(`controller.public must be true or false, got ${JSON.stringify(isPublic)}`);
  }
  if (guards !== undefined && !Array.isArray(guards)) {
    problems.push('controller.guards must be an array of guards (guard classes or objects with canActivate)');
  } else if (Array.isArray(guards)) {
    guards.forEach((guard, index) => {
      if (!isGuard(guard)) {
        problems.push(
          `controller.guards[${index}] is not a guard: pass a guard class or an object with canActivate()`,
        );
      }
    });
  }
  const hasGuards = Array.isArray(guards) && guards.length > 0;
  if (!hasGuards && isPublic !== true) {
    problems.push(
      'controller is enabled without guards: pass controller.guards (e.g. an API-key or JWT guard) ' +
        'or set controller.public: true to expose uploads to anyone',
    );
  }
  return problems;
}

/**
 * What the module definition gains when `controller` is set: the controller, and the problems of its options
 * (unprotected by accident, malformed), which fail the application's bootstrap, not the `forRoot()` call.
 */
export function weixinMediaControllerMetadata(
  controllerOptions: WeixinMediaControllerOptions,
): Required<Pick<ModuleMetadata, 'controllers' | 'providers'>> {
  const problems: Provider = {
    provide: WEIXIN_MEDIA_CONTROLLER_PROBLEMS,
    useFactory: () => controllerOptionsProblems(controllerOptions),
  };
  return {
    controllers: [
      createWeixinMediaController(
        typeof controllerOptions === 'object' && controllerOptions !== null ? controllerOptions : {},
      ),
    ],
    providers: [
      problems,
      { provide: WEIXIN_MEDIA_CONTROLLER_MOUNTED, useValue: true },
      // Among `problems` above; a malformed value never reaches the interceptor (bootstrap fails first).
      { provide: WEIXIN_MEDIA_UPLOAD_LIMITS, useValue: controllerLimits(controllerOptions) },
      // With `fit`, the file may be any format up to the fitter's input limit, not the type's.
      {
        provide: WEIXIN_MEDIA_CONTROLLER_FIT_LIMIT,
        useFactory: (fitter: MediaFitter | null) =>
          (controllerOptions as { fit?: unknown })?.fit === true && fitter ? fitter.maxInputBytes : null,
        inject: [{ token: WEIXIN_MEDIA_FITTER, optional: true }],
      },
    ],
  };
}

function controllerLimits(options: unknown): unknown {
  return typeof options === 'object' && options !== null
    ? (options as { limits?: unknown }).limits
    : undefined;
}
