import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { TemporaryMediaService } from '../temporary-media.service';
import { CallbackReplySender } from './callback-reply-sender';
import type { CallbackStore } from './callback-store.interface';
import { type CallbackReplyBody, callbackReplyXml } from './callback-xml';
import { readyReplyBody, type UploadedReply, uploadReplyMedia } from './reply-media';
import type { VerifiedCallback } from './weixin-callback.guard';
import {
  resolveCallbackOptions,
  WEIXIN_CALLBACK_OPTIONS,
  type ResolvedCallbackOptions,
  type WeixinCallbackOptions,
} from './weixin-callback.options';
import { WEIXIN_CALLBACK_STORE } from './callback-store.provider';
import type { WeixinMessage } from './weixin-message.interface';
import {
  type WeixinMessageContext,
  type WeixinMessageHandler,
  WeixinMessageHandlers,
} from './weixin-message-handlers';
import { WeixinReply, type WeixinReplyLike } from './weixin-reply';

/** The answer that ends Weixin's tries without a reply. */
export const SUCCESS = 'success';
/** How long a message stays taken and its answer kept: past Weixin's last retry (3 tries, 5 s apart). */
export const CALLBACK_ANSWER_TTL_MS = 60_000;
/** The deadline's timer is set in whole steps of this (rounded down: never later than `replyWithinMs`). */
const DEADLINE_STEP_MS = 100;
/** How often a retry that arrived while the first try runs looks for its answer. */
const POLL_MS = 25;

type Outcome<T> = { inTime: true; value: T } | { inTime: false };

/**
 * Answers a verified message: its handler runs once however many of Weixin's tries arrive (and on whichever
 * instance, with a shared store), every try gets the same bytes, and the answer comes within
 * `replyWithinMs`: a handler (with its uploads) not done by then is answered `success`, and its reply goes
 * later through the `CallbackReplySender`, once. A handler that throws is logged with the MsgId.
 */
@Injectable()
export class WeixinCallbackDispatcher implements OnModuleDestroy {
  protected readonly logger = new Logger('WeixinCallback');
  protected readonly settings: ResolvedCallbackOptions;
  /** Aborted when the application shuts down: then no reply matters any more. */
  protected readonly shutdown = new AbortController();

  constructor(
    @Inject(WEIXIN_CALLBACK_OPTIONS) options: WeixinCallbackOptions,
    @Inject(WEIXIN_CALLBACK_STORE) protected readonly store: CallbackStore,
    @Inject(WeixinMessageHandlers) protected readonly handlers: WeixinMessageHandlers,
    @Inject(TemporaryMediaService) protected readonly media: TemporaryMediaService,
    @Inject(CallbackReplySender) protected readonly sender: CallbackReplySender,
  ) {
    this.settings = resolveCallbackOptions(options);
  }

  onModuleDestroy(): void {
    this.shutdown.abort(new Error('the application is shutting down'));
  }

  /** The body of the answer to a verified message: a reply's XML (encrypted in compat and safe mode) or `success`. */
  async answer(verified: VerifiedCallback): Promise<string> {
    const message = verified.message!;
    const handler = this.handlers.find(message);
    if (!handler) return SUCCESS;
    const key = dedupeKey(verified.appId, message);
    const deadline = verified.receivedAt + this.settings.replyWithinMs;
    if (!(await this.claim(key, message))) {
      return (await this.waitForAnswer(key, deadline)) ?? SUCCESS;
    }
    const ran = this.run(handler, verified, deadline);
    const body = typeof ran === 'string' ? ran : await ran;
    // Answered at once: a retry that comes before the answer is kept waits for it as for a running handler.
    void this.keepAnswer(key, body, message);
    return body;
  }

  /** Keeps the answer for the retries; a store that fails costs only that (logged). */
  protected async keepAnswer(key: string, body: string, message: WeixinMessage): Promise<void> {
    try {
      await this.store.setAnswer(key, body, CALLBACK_ANSWER_TTL_MS);
    } catch (error) {
      this.logger.warn(`Could not keep the answer to ${describe(message)} (${errorText(error)})`);
    }
  }

  /** Whether this try runs the handler; a store that fails lets it run (at worst a second time). */
  protected async claim(key: string, message: WeixinMessage): Promise<boolean> {
    try {
      return await this.store.claim(key, CALLBACK_ANSWER_TTL_MS);
    } catch (error) {
      this.logger.warn(
        `The callback store failed (${errorText(error)}); handling ${describe(message)} anyway`,
      );
      return true;
    }
  }

  /** A retry of a message another try is handling: its answer, once there, until `deadline`. */
  protected async waitForAnswer(key: string, deadline: number): Promise<string | undefined> {
    for (;;) {
      const answer = await this.store.answer(key).catch(() => undefined);
      if (answer !== undefined || Date.now() + POLL_MS > deadline) return answer;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** The answer: at once for a handler that answered text at once, else within the deadline. */
  protected run(
    handler: WeixinMessageHandler,
    verified: VerifiedCallback,
    deadline: number,
  ): string | Promise<string> {
    const message = verified.message!;
    const context: WeixinMessageContext = {
      appId: verified.appId,
      openId: message.FromUserName,
      mode: verified.mode!,
      signal: this.shutdown.signal,
    };
    let answered: WeixinReplyLike | PromiseLike<WeixinReplyLike>;
    try {
      answered = handler.call(message, context);
    } catch (error) {
      answered = Promise.reject(error);
    }
    // A handler that answered at once with text is answered now: no deadline to keep.
    if (!isPromiseLike(answered)) {
      const reply = this.toReply(answered, handler, message);
      if (!reply) return SUCCESS;
      const ready = readyReplyBody(reply);
      if (ready) return this.replyBody(ready, verified);
      // Its uploads remain: the reply as read, not read again.
      answered = reply;
    }
    return this.answerInTime(this.work(answered, handler, message, context), verified, context, deadline);
  }

  /** The reply if `work` is done by `deadline`; else `success`, and the reply goes later. */
  protected async answerInTime(
    work: Promise<UploadedReply | undefined>,
    verified: VerifiedCallback,
    context: WeixinMessageContext,
    deadline: number,
  ): Promise<string> {
    const outcome = await beforeDeadline(work, deadline);
    if (outcome.inTime) return outcome.value ? this.replyBody(outcome.value.body, verified) : SUCCESS;
    void this.replyLate(work, context, verified.message!);
    return SUCCESS;
  }

  /** The handler's answer, then the uploads its reply needs; never rejects (a failure is logged with the MsgId). */
  protected async work(
    answered: WeixinReplyLike | PromiseLike<WeixinReplyLike>,
    handler: WeixinMessageHandler,
    message: WeixinMessage,
    context: WeixinMessageContext,
  ): Promise<UploadedReply | undefined> {
    try {
      const reply = this.toReply(await answered, handler, message);
      if (!reply) return undefined;
      return await uploadReplyMedia(reply, () => this.media.forAccount(context.appId), context.signal);
    } catch (error) {
      this.logger.error(`${handler.name} failed on ${describe(message)}: ${errorText(error)}`, stack(error));
      return undefined;
    }
  }

  protected toReply(
    answer: WeixinReplyLike,
    handler: WeixinMessageHandler,
    message: WeixinMessage,
  ): WeixinReply | undefined {
    if (answer instanceof WeixinReply) return answer;
    if (typeof answer === 'string') return WeixinReply.text(answer);
    if (answer === undefined || answer === null) return undefined;
    this.logger.error(
      `${handler.name} answered ${typeof answer} to ${describe(message)}; ` +
        'a handler answers a WeixinReply, a string or nothing',
    );
    return undefined;
  }

  /** Past `replyWithinMs`: typing meanwhile, then the reply as a customer-service message, once. */
  protected async replyLate(
    work: Promise<UploadedReply | undefined>,
    { appId, openId }: WeixinMessageContext,
    message: WeixinMessage,
  ): Promise<void> {
    const { typing } = this.settings;
    if (typing) {
      await this.sender
        .typing(appId, openId, true)
        .catch((error: unknown) => this.logSendFailure('typing', message, error));
    }
    const uploaded = await work;
    if (this.shutdown.signal.aborted) return;
    if (!uploaded) {
      if (typing) await this.sender.typing(appId, openId, false).catch(() => undefined);
      return;
    }
    // Sent once: a failure is logged, never retried into a duplicate.
    await this.sender
      .send(appId, openId, uploaded.reply)
      .catch((error: unknown) => this.logSendFailure('reply', message, error));
  }

  protected logSendFailure(what: string, message: WeixinMessage, error: unknown): void {
    this.logger.error(`The late ${what} to ${describe(message)} failed: ${errorText(error)}`);
  }

  /** The passive reply to the sender, encrypted in compat and safe mode; `success` when it cannot be written. */
  protected replyBody(body: CallbackReplyBody, verified: VerifiedCallback): string {
    const message = verified.message!;
    const seconds = Math.floor(Date.now() / 1000);
    let xml: string;
    try {
      const header = {
        ToUserName: message.FromUserName,
        FromUserName: message.ToUserName,
        CreateTime: seconds,
      };
      xml = callbackReplyXml(header, body);
    } catch (error) {
      this.logger.error(`The reply to ${describe(message)} cannot be written: ${errorText(error)}`);
      return SUCCESS;
    }
    return verified.mode === 'plain'
      ? xml
      : verified.crypto.encryptedReply(xml, String(seconds), verified.nonce);
  }
}

/** A message by its MsgId; an event by its sender, time, event and key (Weixin's retries repeat them). */
export function dedupeKey(appId: string, message: WeixinMessage): string {
  const msgId = (message as { MsgId?: unknown }).MsgId;
  if (typeof msgId === 'string' && msgId !== '') return `${appId}:msg:${msgId}`;
  const { FromUserName, CreateTime, MsgType } = message;
  const { Event, EventKey } = message as { Event?: string; EventKey?: string };
  return `${appId}:${MsgType}:${FromUserName}:${CreateTime}:${Event ?? ''}:${EventKey ?? ''}`;
}

/** `work`'s value if it settles before `deadline` (epoch ms); `work` must not reject. */
function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ inTime: false }), timerDelay(deadline - Date.now()));
    void work.then((value) => {
      clearTimeout(timer);
      resolve({ inTime: true, value });
    });
  });
}

/**
 * A timer's delay for `remaining` ms, in whole steps of 100 ms from 100 ms on (rounded down, so never late):
 * Node keeps a list per delay, made and dropped as its timers come and go, and a delay of its own for every
 * answer in flight cost 10 µs a message (bench/callback.bench.ts).
 */
function timerDelay(remaining: number): number {
  if (remaining < DEADLINE_STEP_MS) return Math.max(0, remaining);
  return remaining - (remaining % DEADLINE_STEP_MS);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function describe(message: WeixinMessage): string {
  if (message.MsgType !== 'event') return `MsgId ${(message as { MsgId?: string }).MsgId}`;
  return `the ${message.Event} event of ${message.FromUserName} at ${message.CreateTime}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function stack(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
