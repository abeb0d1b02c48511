const ignore = () => {};

/**
 * Orders the requests on one handle. Reads (and stats) may run together;
 * anything that changes the file waits for everything before it and holds
 * back everything after it. So pipelined reads overlap, while a write is
 * never reordered with a read, another write, or the close.
 *
 * Only operations still running are tracked, and only as settle signals
 * (never their results): a long download must not keep every buffer it read.
 * inOrder keeps the one answer given last, for the next to wait on.
 */
export class HandleQueue {
  private lastExclusive: Promise<void> = Promise.resolve();
  private running = new Set<Promise<void>>();
  private lastAnswer?: Promise<unknown>;

  /** Runs `operation` once every earlier exclusive operation has settled. */
  shared<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.lastExclusive.then(operation);
    const running = this.running;
    // Leaves the set as it settles: one promise per operation, not a second one to clean up after it.
    const forget = () => void running.delete(settled);
    const settled: Promise<void> = result.then(forget, forget);
    running.add(settled);
    return result;
  }

  /** Runs `operation` once every earlier operation has settled. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const before = this.running.size === 0 ? this.lastExclusive : Promise.all([this.lastExclusive, ...this.running]);
    // Later operations wait for this one, which waits for those: nothing else to track.
    this.running = new Set();
    const result = before.then(operation);
    this.lastExclusive = result.then(ignore, ignore);
    return result;
  }

  /**
   * `answer`, settling no earlier than the answer passed before it: replies
   * leave in the order their requests came, though the reads ran together.
   * The caller must hook its send onto the returned promise at once (as
   * Session.dispatch does with a handler's promise), before a later answer
   * can wait on it; then the earlier send runs first.
   */
  inOrder<T>(answer: Promise<T>): Promise<T> {
    const earlier = this.lastAnswer;
    let ordered = answer;
    if (earlier !== undefined) {
      const afterEarlier = () => earlier.then(() => answer, () => answer);
      ordered = answer.then(afterEarlier, afterEarlier);
    }
    this.lastAnswer = ordered;
    return ordered;
  }

  /** Settles when everything queued so far has settled. */
  idle(): Promise<unknown> {
    return Promise.all([this.lastExclusive, ...this.running]);
  }
}
