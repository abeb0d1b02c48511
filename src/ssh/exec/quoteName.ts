/** Characters after which a shell would not read a name back as one literal word. */
const SHELL_SPECIAL = new Set([...' !"$&\'()*:;<=>?[\\^`|']);
const C_ESCAPES: Record<string, string> = { '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r' };

const isControl = (char: string) => char < ' ' || char === '\x7f';

/**
 * A file name as GNU coreutils quotes it in error messages (quotearg's
 * shell-escape style, UTF-8 locale): as is when a shell would read it back
 * unchanged, in double quotes when only a single quote is in the way,
 * otherwise in single quotes with control characters as `$'\n'`. Messages
 * then read the same as the coreutils tool's.
 */
export function quoteName(name: string): string {
  const chars = [...name];
  const needsQuotes = name === '' || chars.some((char, i) => SHELL_SPECIAL.has(char) || isControl(char) || (i === 0 && (char === '#' || char === '~')));
  if (!needsQuotes) return name;
  if (name.includes("'") && !/[$`"\\\x00-\x1f\x7f]/.test(name)) return `"${name}"`;

  let quoted = "'";
  let open = true;
  for (const char of chars) {
    if (isControl(char)) {
      if (open) quoted += "'";
      quoted += `$'\\${C_ESCAPES[char] ?? char.charCodeAt(0).toString(8).padStart(3, '0')}'`;
      open = false;
    } else if (char === "'") {
      quoted += open ? "'\\''" : "\\''";
      open = true;
    } else {
      if (!open) quoted += "'";
      quoted += char;
      open = true;
    }
  }
  return open ? quoted + "'" : quoted;
}
