import type { ServerName } from '../options.js';

/** Where a server keeps what a client uploads, for reading it back to verify integrity. */
export interface UploadTarget {
  /** The remote path (as given to sftp) of the upload destination directory. */
  remoteDir: string;
  /** The same directory on this machine, when the server stores files on a local disk or tmpfs; absent for in-process memory. */
  hostDir?: string;
  /** What the storage is, for the report: "disk", "tmpfs", "memory". */
  storage: string;
}

/** A running server under test. */
export interface BenchServer {
  name: ServerName;
  port: number;
  user: string;
  /** Root of the process tree whose memory is measured. */
  pid: number;
  /** Uploads land here (W2, W3). */
  upload: UploadTarget;
  stop(): Promise<void>;
}

/** Files every server serves, relative to its start directory, and the host directories behind them. */
export interface BenchEnvironment {
  /** The shared data directory every server serves (the layout is made by dataset.ts). */
  dataDir: string;
  /** Scratch for keys and configs. */
  workDir: string;
  /** Client key (private key file; `.pub` next to it) and an authorized_keys file with its public half. */
  clientKeyPath: string;
  authorizedKeysPath: string;
  /** ed25519 host key every server uses, so no server pays for a slower host key algorithm. */
  hostKeyPath: string;
}
