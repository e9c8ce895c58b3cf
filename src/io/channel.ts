/**
 * A bounded hand-over between a producer that pushes (the planner's callbacks) and a consumer
 * that pulls (delivery's async iteration). push() waits while the buffer is full, so the
 * planner never runs far ahead of the wire and memory stays flat.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: Error | undefined;
  private wakeConsumer?: () => void;
  private wakeProducer?: () => void;

  constructor(private readonly capacity = 64) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.closed) return;
    this.items.push(item);
    this.wakeConsumer?.();
  }

  /** No more items; with an error, the consumer's loop throws it. */
  close(failure?: unknown): void {
    this.closed = true;
    if (failure !== undefined) this.failure = failure instanceof Error ? failure : new Error('the message planner failed', { cause: failure });
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        const item = this.items.shift();
        if (item !== undefined) {
          this.wakeProducer?.();
          yield item;
          continue;
        }
        if (this.closed) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
      }
    } finally {
      // The consumer stopped early (interrupted, fatal error): release a waiting producer.
      this.closed = true;
      this.wakeProducer?.();
    }
  }
}
