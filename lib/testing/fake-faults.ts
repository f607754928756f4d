import type { FakeExchange } from './fake-exchange';
import type { FakeFault } from './fake-fault.interface';

interface QueuedFault {
  readonly fault: FakeFault;
  left: number;
}

/** The injected faults, in the order injected, and the delays they are playing (cut short on close). */
export class FakeFaults {
  private queue: QueuedFault[] = [];
  private readonly pendingDelays = new Set<() => void>();

  inject(fault: FakeFault): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) return;
    this.queue.push({ fault: { ...fault }, left: times });
  }

  clear(): void {
    this.queue = [];
  }

  /** The first fault that matches `path`, counted as used once. */
  take(path: string): FakeFault | undefined {
    const index = this.queue.findIndex(({ fault }) => fault.path === undefined || fault.path === path);
    if (index < 0) return undefined;
    const queued = this.queue[index];
    if (--queued.left <= 0) this.queue.splice(index, 1);
    return queued.fault;
  }

  /** Plays `fault` on the exchange; true when it answered (or hung up), so the normal answer must not follow. */
  async play(exchange: FakeExchange, fault: FakeFault): Promise<boolean> {
    if (fault.delayMs) await this.sleep(fault.delayMs);
    if (exchange.gone) return true;
    if (fault.callerIp) exchange.callerIp = fault.callerIp;
    if (fault.reset) {
      exchange.destroy();
      return true;
    }
    if (fault.status !== undefined) {
      if (fault.errcode !== undefined) exchange.error(fault.errcode, fault.errmsg, fault.status);
      else exchange.httpStatus(fault.status);
      return true;
    }
    if (fault.errcode !== undefined) {
      exchange.error(fault.errcode, fault.errmsg);
      return true;
    }
    return false;
  }

  /** Ends every delay now, so closing never waits for a fault. */
  wakeAll(): void {
    for (const wake of this.pendingDelays) wake();
    this.pendingDelays.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.pendingDelays.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pendingDelays.add(wake);
    });
  }
}
