import { readFileSync } from 'node:fs';
import { UsageError, expandHome } from './serveOptions.js';

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

/**
 * `--ca-cert` files, concatenated (one PEM string may carry several
 * certificates), for the HTTPS endpoints of S3 and WebDAV backends; undefined
 * when none is given.
 */
export function readCaCertificates(flags: Flags): string | undefined {
  const value = flags['ca-cert'];
  const files = (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []).map(expandHome);
  if (files.length === 0) return undefined;
  return files
    .map((file) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read --ca-cert ${file}: ${(error as Error).message}`);
      }
      if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-cert ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      return text.endsWith('\n') ? text : `${text}\n`;
    })
    .join('');
}

/** Node's codes for a certificate it could not verify: SELF_SIGNED_CERT_IN_CHAIN, DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED... */
const UNTRUSTED_CERTIFICATE = /CERT|UNABLE_TO_VERIFY/;

/** A hint for a start-up error when the endpoint's TLS certificate was the problem (SDKs wrap Node's error as a cause). */
export function certificateHint(error: unknown): string {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.test(code)) {
      return ` (the endpoint's TLS certificate is not trusted; for a private CA or a self-signed certificate, give the CA with --ca-cert FILE)`;
    }
  }
  return '';
}
