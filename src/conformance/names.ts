import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Specifier } from './harness.js';

// 127 two-byte characters plus one byte: exactly NAME_MAX (255) bytes in UTF-8.
const LONGEST_NAME = 'é'.repeat(127) + 'x';

const unusualNames = [
  'with spaces in it',
  ' leading and trailing ',
  'ünïcødé-名前-😀',
  'percent%20and?query#hash',
  `quotes'"and\\backslash`,
  'brackets[*]{}&;$',
  '-starts-with-dash',
  '.hidden',
  '...',
];

/** Names are byte strings: anything but `/` and NUL must round-trip exactly. */
export function describeNames(spec: Specifier): void {
  describe('names', () => {
    spec.it('files with unusual names are created, listed, read and removed by their exact names', async (fs) => {
      await fs.mkdir('/d');
      for (const name of unusualNames) await fs.writeFile(`/d/${name}`, name);
      const listed = (await fs.listdirAll('/d')).map((entry) => entry.name);
      assert.deepEqual(listed.sort(), [...unusualNames].sort());
      for (const name of unusualNames) {
        assert.equal((await fs.readFile(`/d/${name}`)).toString(), name);
        await fs.remove(`/d/${name}`);
      }
      assert.deepEqual(await fs.listdirAll('/d'), []);
    });

    spec.it('directories with spaces and unicode hold files', async (fs) => {
      await fs.mkdir('/dir with space');
      await fs.mkdir('/dir with space/ordner-ü');
      await fs.writeFile('/dir with space/ordner-ü/f', 'x');
      assert.equal((await fs.readFile('/dir with space/ordner-ü/f')).toString(), 'x');
      await fs.rename('/dir with space', '/renamé');
      assert.equal((await fs.readFile('/renamé/ordner-ü/f')).toString(), 'x');
    });

    spec.it('a 255-byte name (NAME_MAX) works', async (fs) => {
      assert.equal(Buffer.byteLength(LONGEST_NAME), 255);
      await fs.writeFile(`/${LONGEST_NAME}`, 'long');
      assert.equal((await fs.readFile(`/${LONGEST_NAME}`)).toString(), 'long');
      assert.deepEqual((await fs.listdirAll('/')).map((entry) => entry.name), [LONGEST_NAME]);
    });

    spec.it('unicode is not normalised: NFC and NFD spellings stay distinct where stored distinctly', async (fs) => {
      // Linux stores bytes; a backend must at least return the name it was given.
      const nfd = 'cafe\u0301';
      await fs.writeFile(`/${nfd}`, 'nfd');
      const [entry] = await fs.listdirAll('/');
      assert.equal(entry?.name, nfd);
      assert.equal((await fs.readFile(`/${nfd}`)).toString(), 'nfd');
    });
  });
}
