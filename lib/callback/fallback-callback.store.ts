import { Logger } from '@nestjs/common';
import { StoreCircuit } from '../store-circuit/store-circuit';
import type { CallbackStore } from './callback-store.interface';
import { InMemoryCallbackStore } from './in-memory-callback.store';

/**
 * The shared callback store behind a circuit: while it fails or stalls, this process claims and answers on
 * its own, so callbacks keep being answered; a retry that reaches another instance meanwhile may run its
 * handler again (the warning says so).
 */
export function withCallbackStoreFallback(store: CallbackStore): CallbackStore {
  const logger = new Logger('WeixinCallbackStore');
  const circuit = new StoreCircuit({
    name: 'callback store',
    meanwhile:
      'messages are deduplicated in this process only (a retry reaching another instance may run its handler again)',
    warn: (message) => logger.warn(message),
    log: (message) => logger.log(message),
  });
  const local = new InMemoryCallbackStore();
  return {
    claim: (key, ttlMs) =>
      circuit.run(
        'claim',
        () => store.claim(key, ttlMs),
        () => local.claim(key, ttlMs),
      ),
    answer: (key) =>
      circuit.run(
        'answer',
        async () => (await store.answer(key)) ?? local.answer(key),
        () => local.answer(key),
      ),
    setAnswer: async (key, answer, ttlMs) => {
      // Kept here too: a retry of this process finds it even when the shared store lost it.
      await local.setAnswer(key, answer, ttlMs);
      await circuit.run(
        'set answer',
        () => store.setAnswer(key, answer, ttlMs),
        () => undefined,
      );
    },
  };
}
