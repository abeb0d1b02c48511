/**
 * Splits an exec command line into words the way a POSIX shell would for a
 * single simple command: quoting and escaping only. Nothing is ever expanded
 * or run: every construct that would make a shell do more than split words
 * (separators, pipes, redirections, substitutions, globs, tildes, comments,
 * variable assignments) is refused, so a command line means the same to us as
 * it would to sh, or it is rejected.
 */

/** A command line that is not a single simple command with literal words. */
export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

/** Characters that end a word or start a construct we do not run (outside quotes). */
const OPERATORS = new Set([';', '&', '|', '<', '>', '(', ')', '\n']);
/** Characters a shell would expand outside quotes. */
const EXPANSIONS = new Set(['$', '`', '*', '?', '[', '{', '}']);
const BLANKS = new Set([' ', '\t']);
/** Inside double quotes a backslash escapes only these (and a newline, which it removes). */
const DOUBLE_QUOTE_ESCAPABLE = new Set(['$', '`', '"', '\\']);

/**
 * The words of `line`, unquoted. Throws ShellSyntaxError for anything beyond
 * literal words (see the module comment). An empty or blank line gives `[]`.
 */
export function parseShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  /** Whether a word is under way: `''` is an empty word, blanks are none. */
  let inWord = false;
  let i = 0;
  const finishWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };

  while (i < line.length) {
    const char = line[i]!;
    if (BLANKS.has(char)) {
      finishWord();
      i++;
    } else if (char === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new ShellSyntaxError('unterminated single quote');
      word += line.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (char === '"') {
      const [text, next] = readDoubleQuoted(line, i + 1);
      word += text;
      inWord = true;
      i = next;
    } else if (char === '\\') {
      if (i + 1 >= line.length) throw new ShellSyntaxError('backslash at end of command');
      // A backslash-newline is a line continuation: both disappear.
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (OPERATORS.has(char)) {
      throw new ShellSyntaxError(`unsupported shell syntax: ${JSON.stringify(char)} (only one simple command is run)`);
    } else if (EXPANSIONS.has(char)) {
      throw new ShellSyntaxError(`unsupported shell syntax: ${JSON.stringify(char)} (nothing is expanded; quote it)`);
    } else if (!inWord && (char === '#' || char === '~')) {
      throw new ShellSyntaxError(`unsupported shell syntax: ${JSON.stringify(char)} at the start of a word; quote it`);
    } else {
      word += char;
      inWord = true;
      i++;
    }
  }
  finishWord();
  refuseAssignment(line, words);
  return words;
}

/** Reads a double-quoted string starting after its opening quote; returns its text and the index after the closing quote. */
function readDoubleQuoted(line: string, start: number): [string, number] {
  let text = '';
  for (let i = start; i < line.length; i++) {
    const char = line[i]!;
    if (char === '"') return [text, i + 1];
    if (char === '$' || char === '`') {
      throw new ShellSyntaxError(`unsupported shell syntax: ${JSON.stringify(char)} inside double quotes (nothing is expanded)`);
    }
    if (char === '\\' && i + 1 < line.length) {
      const next = line[i + 1]!;
      if (next === '\n') {
        i++;
        continue;
      }
      if (DOUBLE_QUOTE_ESCAPABLE.has(next)) {
        text += next;
        i++;
        continue;
      }
    }
    text += char;
  }
  throw new ShellSyntaxError('unterminated double quote');
}

/**
 * `NAME=value cmd` sets a variable for cmd in a shell. Only an unquoted,
 * unescaped `NAME=` prefix of the first word makes an assignment, so look at
 * the raw text rather than the unquoted word.
 */
function refuseAssignment(line: string, words: string[]): void {
  if (words.length === 0) return;
  if (/^[ \t]*[A-Za-z_][A-Za-z0-9_]*=/.test(line)) {
    throw new ShellSyntaxError('unsupported shell syntax: variable assignment');
  }
}
