/**
 * What one SFTP session may hold or ask for. Reported to clients as they are
 * by limits@openssh.com, so a client never sends what the session refuses.
 */
export interface SessionLimits {
  /** Largest packet accepted from the client (OpenSSH: 256 KiB). A longer one ends the session. */
  maxPacketLength: number;
  /** READ lengths are clamped to this (OpenSSH: 256 KiB less 1 KiB for headers). */
  maxReadLength: number;
  /** Largest WRITE payload accepted. */
  maxWriteLength: number;
  /** Open file and directory handles per session; OPEN beyond it fails cleanly. */
  maxOpenHandles: number;
  /** Requests being worked on at once; past it the session stops reading until replies go out. */
  maxInFlight: number;
  /** Entries in one READDIR reply. */
  readdirMaxEntries: number;
}

export const defaultSessionLimits: SessionLimits = {
  maxPacketLength: 256 * 1024,
  maxReadLength: 256 * 1024 - 1024,
  maxWriteLength: 256 * 1024 - 1024,
  maxOpenHandles: 1024,
  maxInFlight: 128,
  readdirMaxEntries: 512,
};
