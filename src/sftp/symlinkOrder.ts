/**
 * The order of SSH_FXP_SYMLINK's two paths. draft-ietf-secsh-filexfer-02
 * puts the link first and its target second; OpenSSH's sftp-server reads them
 * the other way round, and so most clients send the target first to every
 * server: OpenSSH's sftp, paramiko, libssh2 (curl, PHP), Go's pkg/sftp
 * (rclone), PuTTY and FileZilla. So does this server, by default.
 *
 * A few clients send OpenSSH's order only to servers whose identification
 * says OpenSSH, and the draft's to any other, such as this one: Node's ssh2
 * (and ssh2-sftp-client, and our own SFTPFS), Python's AsyncSSH, WinSCP, and
 * the C library libssh (not libssh2). They are known by the software name of
 * their SSH identification, and their SYMLINKs are read in the draft's order.
 *
 * Libraries that send the draft's order to every server (Java's sshj, Rust's
 * russh-sftp) are read as OpenSSH reads them: their applications were made
 * to work against OpenSSH, and those that make links swap the arguments for
 * it (Cyberduck does, on sshj), so they work here as they do there.
 */
export type SymlinkOrder = 'target-first' | 'link-first';

const LINK_FIRST_CLIENTS = /^(?:ssh2js|AsyncSSH_|WinSCP_|libssh_)/;

/** The order a client sends SYMLINK's paths in, from the software part of its SSH identification (`OpenSSH_9.2p1`, `ssh2js1.17.0`...). */
export function symlinkOrderOf(clientSoftware: string | undefined): SymlinkOrder {
  return clientSoftware !== undefined && LINK_FIRST_CLIENTS.test(clientSoftware) ? 'link-first' : 'target-first';
}
