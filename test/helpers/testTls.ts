import { fileURLToPath } from 'node:url';

/**
 * A self-signed certificate for 127.0.0.1 and its key (test only), for the
 * S3 and WebDAV servers that tests start over HTTPS. Trusted only where a
 * test passes the certificate as a CA (`caCertificates`, `--ca-cert`).
 */
export const TEST_TLS_FILES = {
  key: fileURLToPath(new URL('../fixtures/s3tls-key.pem', import.meta.url)),
  cert: fileURLToPath(new URL('../fixtures/s3tls-cert.pem', import.meta.url)),
};
