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
  /**
   * The WRITE length limits@openssh.com reports, which OpenSSH's client then
   * uses for uploads (other clients pick their own; up to maxWriteLength is
   * accepted from anyone). See defaultSessionLimits for why it is smaller.
   */
  advertisedWriteLength: number;
  /** Open file and directory handles per session; OPEN beyond it fails cleanly. */
  maxOpenHandles: number;
  /** Requests being worked on at once; past it the session stops reading until replies go out. */
  maxInFlight: number;
  /**
   * Bytes of READs being worked on at once (what they ask for, up to
   * maxReadLength each); further READs wait. OpenSSH's client asks for 64 x
   * 255 KiB at a time, while the SSH window lets only 2 MiB through: without
   * this bound a download held 16 MiB of read data per session.
   */
  maxReadBytesInFlight: number;
  /** Entries in one READDIR reply. */
  readdirMaxEntries: number;
}

export const defaultSessionLimits: SessionLimits = {
  maxPacketLength: 256 * 1024,
  maxReadLength: 256 * 1024 - 1024,
  maxWriteLength: 256 * 1024 - 1024,
  // A WRITE packet is 29 bytes of header (4-byte handles) and its data: with
  // this length it is exactly one 32 KiB SSH channel packet (ssh2's packet
  // size), so it reaches the session whole and is handed on without a copy. A
  // 255 KiB WRITE spans eight channel packets and had to be copied together:
  // one more allocation per byte uploaded, which made V8 collect garbage
  // (external memory pressure) ~2.5x as often; a 512 MiB put took 1.77 s of
  // server CPU instead of 0.73 s.
  advertisedWriteLength: 32 * 1024 - 29,
  maxOpenHandles: 1024,
  maxInFlight: 128,
  maxReadBytesInFlight: 4 * 1024 * 1024,
  readdirMaxEntries: 512,
};
