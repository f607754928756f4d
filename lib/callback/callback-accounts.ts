import { Inject, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { WeixinAccounts } from '../accounts/weixin-accounts';
import { BoundedLruMap } from '../common/bounded-lru-map';
import { AccountResolverTimeoutError } from '../errors/account-resolver-timeout.error';
import { CallbackRefusedError } from '../errors/callback-refused.error';
import { concealSecrets } from '../errors/secret-redaction';
import { UnknownAccountError } from '../errors/unknown-account.error';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { WEIXIN_MEDIA_MODULE_OPTIONS } from '../weixin-media.constants';
import { callbackSettingProblems, WeixinCallbackCrypto } from './callback-crypto';

interface Settings {
  token?: string;
  encodingAESKey?: string;
}

/**
 * The callback cryptography of each account the callback serves: the default account's secrets are the
 * module's (`callbackToken`, `encodingAESKey`); a listed or resolved account brings its own or uses those.
 * An AppID the module does not know answers 404.
 */
@Injectable()
export class CallbackAccounts {
  protected readonly logger = new Logger('WeixinCallback');
  protected readonly cryptos: BoundedLruMap<string, { settings: Settings; crypto: WeixinCallbackCrypto }>;

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    @Inject(WeixinAccounts) protected readonly accounts: WeixinAccounts,
  ) {
    this.cryptos = new BoundedLruMap(options.maxAccounts, 'CallbackAccounts');
  }

  /**
   * The crypto of `appId` (from the URL), or of the default account when there is none in the URL; only an
   * account the resolver is asked for is waited for.
   */
  crypto(appId: string | undefined): WeixinCallbackCrypto | Promise<WeixinCallbackCrypto> {
    const defaults: Settings = {
      token: this.options.callbackToken,
      encodingAESKey: this.options.encodingAESKey,
    };
    const target = appId ?? this.options.appId;
    if (target === undefined) {
      throw new NotFoundException(
        'this module has no default account: post to the callback path with /:appId',
      );
    }
    if (target === this.options.appId) return this.cryptoFor(target, defaults);
    return this.resolve(target).then((account) =>
      this.cryptoFor(target, {
        token: account.callback?.callbackToken ?? defaults.token,
        encodingAESKey: account.callback?.encodingAESKey ?? defaults.encodingAESKey,
      }),
    );
  }

  protected async resolve(appId: string): ReturnType<WeixinAccounts['resolve']> {
    try {
      return await this.accounts.resolve(appId);
    } catch (error) {
      if (error instanceof UnknownAccountError) {
        throw new NotFoundException(`no Official Account ${JSON.stringify(appId.slice(0, 64))} here`);
      }
      if (error instanceof AccountResolverTimeoutError) throw new ServiceUnavailableException(error.message);
      throw error;
    }
  }

  protected cryptoFor(appId: string, settings: Settings): WeixinCallbackCrypto {
    const cached = this.cryptos.get(appId);
    if (
      cached &&
      cached.settings.token === settings.token &&
      cached.settings.encodingAESKey === settings.encodingAESKey
    ) {
      return cached.crypto;
    }
    // A resolver's answer is checked only now; its problems never name a secret.
    const problems = callbackSettingProblems(settings, `callback (account ${appId})`);
    if (problems.length > 0) {
      this.logger.error(`Refused a callback request: ${problems.join('; ')}`);
      throw new CallbackRefusedError('signature', `the account ${appId} has no usable callback Token`);
    }
    const crypto = new WeixinCallbackCrypto({ ...settings, token: settings.token!, receiveId: appId });
    this.cryptos.set(appId, { settings: concealSecrets({ ...settings }), crypto });
    return crypto;
  }
}
