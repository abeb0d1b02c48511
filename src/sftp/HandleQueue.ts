/**
 * Orders the requests on one handle. Reads (and stats) may run together;
 * anything that changes the file waits for everything before it and holds
 * back everything after it. So pipelined reads overlap, while a write is
 * never reordered with a read, another write, or the close.
 */
export class HandleQueue {
  private lastExclusive: Promise<unknown> = Promise.resolve();
  private sharedSinceExclusive: Promise<unknown>[] = [];

  /** Runs `operation` once every earlier exclusive operation has settled. */
  shared<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.lastExclusive.then(operation, operation);
    this.sharedSinceExclusive.push(result.catch(() => {}));
    return result;
  }

  /** Runs `operation` once every earlier operation has settled. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const before = this.sharedSinceExclusive.length === 0
      ? this.lastExclusive
      : Promise.all([this.lastExclusive, ...this.sharedSinceExclusive]);
    const result = before.then(operation, operation);
    this.lastExclusive = result.catch(() => {});
    this.sharedSinceExclusive = [];
    return result;
  }

  /** Settles when everything queued so far has settled. */
  idle(): Promise<unknown> {
    return Promise.all([this.lastExclusive, ...this.sharedSinceExclusive]);
  }
}
