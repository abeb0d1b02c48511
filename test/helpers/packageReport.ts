/**
 * A module for `node --import` that, when the process exits, writes to stderr
 * the packages whose CommonJS modules it loaded (ESM imports of CommonJS
 * packages land there too), as one `PACKAGES [...]` line.
 */
export const REPORT_PACKAGES = `data:text/javascript,${encodeURIComponent(`
  import { createRequire } from 'node:module';
  const require = createRequire(process.cwd() + '/');
  process.on('exit', () => {
    const names = new Set(Object.keys(require.cache).map((file) => file.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/)?.[1]).filter(Boolean));
    process.stderr.write('PACKAGES ' + JSON.stringify([...names]) + '\\n');
  });
`)}`;

/** The packages a process started with {@link REPORT_PACKAGES} reported on `stderr`. */
export function reportedPackages(stderr: string): string[] {
  const line = stderr.split('\n').find((text) => text.startsWith('PACKAGES '));
  if (!line) throw new Error(`no package report on stderr:\n${stderr}`);
  return JSON.parse(line.slice('PACKAGES '.length)) as string[];
}
