import { accountExtensions } from './extensions/accounts.js';
import { checkFileExtensions } from './extensions/checkFile.js';
import { copyDataExtensions } from './extensions/copyData.js';
import { opensshExtensions } from './extensions/openssh.js';
import { pathExtensions } from './extensions/paths.js';
import type { Extension } from './extensions/types.js';

export type { Extension, ExtensionContext } from './extensions/types.js';
export type { LinkAttributesFS } from './extensions/openssh.js';
export type { HomeDirectoryLookup } from './extensions/paths.js';
export type { AccountNameLookup } from './extensions/accounts.js';

/**
 * Every extension the server knows, grouped by what they touch: OpenSSH's
 * own, then the filexfer-extensions draft's check-file. A
 * session offers those its FS can do (and none that write on a read-only FS).
 */
export const builtinExtensions: Extension[] = [
  ...opensshExtensions,
  ...pathExtensions,
  ...copyDataExtensions,
  ...accountExtensions,
  ...checkFileExtensions,
];
