/**
 * Resolves once `condition()` holds, checking after each turn of the event
 * loop; rejects after `timeoutMs` naming what was awaited. For conditions no
 * event announces (a counter reaching a value, a stream pausing).
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
