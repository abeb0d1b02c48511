/**
 * Options for `node` that a server process runs with: the CLI starts node
 * with them (the launcher lines at the top of src/cli/main.ts) and
 * serveWithWorkers forks its workers with them.
 *
 * --initial-old-space-size=64: V8 counts the bytes of every ArrayBuffer
 * allocated since its last full (mark-compact) collection against the old
 * generation's allocation limit. An upload allocates one per socket read
 * (64 KiB, garbage moments later), and a server's heap is small (some 8 MB
 * live, its limit some 15 MB above that), so V8 ran a full collection for
 * every 20-40 MB uploaded: 24-55 per GiB, about a third of the server's CPU
 * (4.1 s against 2.9 s per GiB put). With an old generation allowed 64 MB
 * from the start, young collections free those buffers long before: 0-1 full
 * collections per GiB. A busy server's heap outgrows 64 MB and V8's own
 * limits take over.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** `execArgv` and whichever server flags it does not set itself (a value given explicitly wins). */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const optionName = (flag: string) => flag.split('=')[0]!.replaceAll('_', '-');
  const given = new Set(execArgv.map(optionName));
  return [...SERVER_NODE_FLAGS.filter((flag) => !given.has(optionName(flag))), ...execArgv];
}
