import { StringDecoder } from 'node:string_decoder';
import { parseXML } from 'webdav';

/** The properties of one `<response>` of a PROPFIND multistatus that an FS needs. */
export interface PropfindEntry {
  /** The `href`, as the server sent it (absolute URL or absolute path, percent-encoded). */
  href: string;
  isCollection: boolean;
  size: number;
  /** Seconds since the epoch; 0 when the server gave no getlastmodified. */
  mtime: number;
  /** The entity tag, when the server gives one (changes with the content). */
  etag?: string;
}

/** Properties asked for: only what a stat needs, so servers send less. */
export const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/></d:prop></d:propfind>';

/** Upper bound of one `<response>` element: anything longer is not a sane server. */
const MAX_RESPONSE_ELEMENT = 1 << 20;

/**
 * The `<response>` elements of a multistatus body, one by one as they
 * arrive: a listing of a million entries is never held whole. The stream is
 * cut at each closing `</P:response>` where P is the prefix the root element
 * binds to `DAV:` (or none, for a default namespace), and each piece is
 * parsed on its own inside a copy of the root start tag.
 */
export async function* parseMultistatus(body: AsyncIterable<Buffer | string>): AsyncGenerator<PropfindEntry> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let rootStart: string | undefined;
  let rootName = '';
  let closing: RegExp | undefined;
  for await (const chunk of body) {
    text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (rootStart === undefined) {
      const root = /<((?:[\w.-]+:)?multistatus)\b[^>]*>/.exec(text);
      if (!root) continue;
      rootStart = root[0];
      rootName = root[1]!;
      closing = closingTagOfResponse(rootName);
      text = text.slice(root.index + rootStart.length);
    }
    let match: RegExpExecArray | null;
    closing!.lastIndex = 0;
    let consumed = 0;
    while ((match = closing!.exec(text)) !== null) {
      const element = text.slice(consumed, match.index + match[0].length);
      consumed = match.index + match[0].length;
      yield* parseElement(`${rootStart}${withoutFailedPropstats(element)}</${rootName}>`);
    }
    text = text.slice(consumed);
    if (text.length > MAX_RESPONSE_ELEMENT) throw new Error('WebDAV multistatus response element too large');
  }
  if (rootStart === undefined) throw new Error('WebDAV server answered PROPFIND without a multistatus body');
}

/**
 * Drops `<propstat>` blocks whose status is not 2xx (properties the server
 * lacks, e.g. no getcontentlength on a collection): the `webdav` parser keeps
 * only the first propstat of a response, which may be the failed one.
 */
function withoutFailedPropstats(element: string): string {
  return element.replace(/<((?:[\w.-]+:)?)propstat\b[^>]*>([\s\S]*?)<\/\1propstat\s*>/g, (block, _prefix: string, inner: string) => {
    const status = /<(?:[\w.-]+:)?status\b[^>]*>\s*HTTP\/[\d.]+\s+(\d{3})/.exec(inner);
    return status && !status[1]!.startsWith('2') ? '' : block;
  });
}

function closingTagOfResponse(rootName: string): RegExp {
  const prefix = rootName.includes(':') ? rootName.slice(0, rootName.indexOf(':') + 1) : '';
  const escaped = prefix.replace(/[.-]/g, '\\$&');
  return new RegExp(`</${escaped}response\\s*>`, 'g');
}

async function* parseElement(xml: string): AsyncGenerator<PropfindEntry> {
  const result = await parseXML(xml);
  for (const response of result.multistatus.response) {
    // A member answered with a bare status (no propstat) and not 2xx is one the server could not describe.
    if (response.status && !/\s2\d\d\b/.test(String(response.status)) && !response.propstat) continue;
    const propstats = ([] as unknown[]).concat(response.propstat ?? []) as { prop?: Record<string, unknown> }[];
    const props = Object.assign({}, ...propstats.map((propstat) => propstat.prop ?? {})) as Record<string, unknown>;
    const resourcetype = props.resourcetype;
    const isCollection = typeof resourcetype === 'object' && resourcetype !== null && 'collection' in resourcetype;
    const modified = typeof props.getlastmodified === 'string' ? Date.parse(props.getlastmodified) : NaN;
    yield {
      href: String(response.href),
      isCollection,
      size: isCollection ? 0 : Number(props.getcontentlength ?? 0) || 0,
      mtime: Number.isFinite(modified) ? modified / 1000 : 0,
      etag: props.getetag !== undefined && props.getetag !== '' ? String(props.getetag) : undefined,
    };
  }
}
