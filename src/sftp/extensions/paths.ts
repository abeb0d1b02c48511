import { StatusCode } from '../protocol/constants.js';
import type { SFTPServerInterface } from '../SFTPServerInterface.js';
import { SFTPStatusError } from '../translateErrors.js';
import { always, encodeSinglePath, type Extension } from './types.js';

/**
 * Implemented by an SFTPServerInterface subclass that knows other users' home
 * directories; then `~user` (expand-path) and home-directory for a named user
 * work. Without it only the session's own home (`~`, empty user) is known,
 * and other users are answered as OpenSSH answers users it cannot find.
 */
export interface HomeDirectoryLookup {
  /** The home directory (an FS path) of `username`, or undefined for an unknown user. */
  homeDirectoryOf(username: string): string | undefined | Promise<string | undefined>;
}

async function homeOf(si: SFTPServerInterface, username: string): Promise<string | undefined> {
  const lookup = (si as Partial<HomeDirectoryLookup>).homeDirectoryOf;
  return typeof lookup === 'function' ? lookup.call(si, username) : undefined;
}

/**
 * A client path with shell-like tilde expansion, as OpenSSH's expand-path:
 * `~` and `~/x` start at the session's home, `~user/x` at that user's home,
 * an empty path is the home; the result is then canonicalised like REALPATH.
 */
async function expandTilde(si: SFTPServerInterface, path: string): Promise<string> {
  if (path === '' || path === '~') return si.home;
  if (!path.startsWith('~')) return path;
  if (path.startsWith('~/')) return `${si.home}/${path.slice(2)}`;
  const slash = path.indexOf('/');
  const username = slash === -1 ? path.slice(1) : path.slice(1, slash);
  const home = await homeOf(si, username);
  if (home === undefined) throw new SFTPStatusError(StatusCode.NO_SUCH_FILE, 'no such user');
  return slash === -1 ? home : `${home}/${path.slice(slash + 1)}`;
}

/** Extensions that name directories: expand-path@openssh.com and home-directory. */
export const pathExtensions: Extension[] = [
  {
    name: 'expand-path@openssh.com', version: '1', writes: false, isAvailable: always,
    async handle({ si }, id, payload) {
      const expanded = await expandTilde(si, payload.string('path'));
      return encodeSinglePath(id, await si.realpath(expanded));
    },
  },
  {
    name: 'home-directory', version: '1', writes: false, isAvailable: always,
    async handle({ si }, id, payload) {
      const username = payload.string('username');
      const home = username === '' ? si.home : await homeOf(si, username);
      // OpenSSH answers a bare FAILURE for a user getpwnam does not know.
      if (home === undefined) throw new SFTPStatusError(StatusCode.FAILURE, `Unknown user ${username}`);
      return encodeSinglePath(id, home);
    },
  },
];
