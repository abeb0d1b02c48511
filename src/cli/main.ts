#!/bin/sh
//bin/sh -c :; exec node --initial-old-space-size=64 "$0" "$@"
/**
 * The `sftp-expose` command. Exit codes: 0 done, 1 failed while running
 * (port in use, unreadable key...), 2 bad command line.
 *
 * Run as a program, the two lines above are a shell script: it replaces
 * itself with node, given this file and the options in SERVER_NODE_FLAGS
 * (src/cluster/serverNodeFlags.ts says why; a test checks the two lists
 * agree). Node reads the first line as a hashbang and the second as a
 * comment. `#!/usr/bin/env node --flag` would need `env -S`, which BusyBox's
 * env lacks.
 */
import { readFileSync } from 'node:fs';
import { NoAuthenticationConfigured } from './cliErrors.js';
import { runServe } from './serveCommand.js';
import { UsageError } from './serveOptions.js';

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  serve: { summary: 'Serve a backend (memory or a local folder) over SFTP', run: runServe },
  'hash-password': { summary: 'Print a password hash for a config file (reads the password)', run: async (args) => (await import('./hashPassword.js')).runHashPassword(args) },
};

const USAGE = `Usage: sftp-expose <command> [arguments]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(14)} ${command.summary}`)
  .join('\n')}

Run 'sftp-expose <command> --help' for a command's flags; --version prints the version.`;

function version(): string {
  // package.json is two levels up from both src/cli (tsx) and dist/cli (built).
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`sftp-expose ${version()}\n`);
    return 0;
  }
  const command = name !== undefined ? commands[name] : undefined;
  if (!command) throw new UsageError(name === undefined ? 'missing command' : `unknown command "${name}"`, '');
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      const helpCommand = ['sftp-expose', error.command, '--help'].filter(Boolean).join(' ');
      process.stderr.write(`sftp-expose: ${error.message}\nRun '${helpCommand}' for usage.\n`);
      process.exit(2);
    }
    if (error instanceof NoAuthenticationConfigured) {
      process.stderr.write(`sftp-expose: refusing to start: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`sftp-expose: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
