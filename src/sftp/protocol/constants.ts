/** SFTP version 3 (draft-ietf-secsh-filexfer-02) numbers, plus OpenSSH's extensions. */

export const SFTP_VERSION = 3;

export const PacketType = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;
export type PacketTypeNumber = (typeof PacketType)[keyof typeof PacketType];

export const StatusCode = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;
export type StatusCodeNumber = (typeof StatusCode)[keyof typeof StatusCode];

/** The default message for each status, as OpenSSH's sftp-server words them. */
export const statusMessages: Record<StatusCodeNumber, string> = {
  0: 'Success',
  1: 'End of file',
  2: 'No such file',
  3: 'Permission denied',
  4: 'Failure',
  5: 'Bad message',
  6: 'No connection',
  7: 'Connection lost',
  8: 'Operation unsupported',
};

export const OpenFlag = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

export const AttrFlag = {
  SIZE: 0x01,
  UIDGID: 0x02,
  PERMISSIONS: 0x04,
  ACMODTIME: 0x08,
  EXTENDED: 0x80000000,
} as const;

/** File type bits of st_mode, as SFTP v3 carries them in `permissions`. */
export const FileMode = {
  S_IFMT: 0o170000,
  S_IFSOCK: 0o140000,
  S_IFLNK: 0o120000,
  S_IFREG: 0o100000,
  S_IFBLK: 0o060000,
  S_IFDIR: 0o040000,
  S_IFCHR: 0o020000,
  S_IFIFO: 0o010000,
} as const;

/** Flags of the statvfs@openssh.com reply. */
export const StatVFSFlag = { RDONLY: 0x1, NOSUID: 0x2 } as const;
