/*
 * A small SFTP client on libssh (the C library, not libssh2), for
 * test/e2e/libssh.test.ts. It logs in with a password and runs one command
 * per line of standard input, printing exactly one line for each:
 * "ok [result]" or "error <SFTP status> <message>".
 *
 *   sftp-client HOST PORT USER PASSWORD < commands
 *
 * Commands: put LOCAL REMOTE, get REMOTE LOCAL, stat PATH, lstat PATH, ls DIR,
 * mkdir PATH, rmdir PATH, rm PATH, rename FROM TO, symlink TARGET LINK,
 * readlink PATH, chmod PATH OCTAL-MODE. Paths contain no spaces.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#define CHUNK 32768

static ssh_session session;
static sftp_session sftp;

static void fail(const char *what) {
  printf("error %d %s: %s\n", sftp_get_error(sftp), what, ssh_get_error(session));
}

static int put(const char *local, const char *remote) {
  FILE *in = fopen(local, "rb");
  if (!in) { printf("error -1 cannot read %s\n", local); return -1; }
  sftp_file file = sftp_open(sftp, remote, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!file) { fclose(in); fail("open"); return -1; }
  char buffer[CHUNK];
  size_t n;
  long total = 0;
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) {
    if (sftp_write(file, buffer, n) != (ssize_t)n) { fclose(in); sftp_close(file); fail("write"); return -1; }
    total += (long)n;
  }
  fclose(in);
  if (sftp_close(file) != SSH_OK) { fail("close"); return -1; }
  printf("ok %ld\n", total);
  return 0;
}

static int get(const char *remote, const char *local) {
  sftp_file file = sftp_open(sftp, remote, O_RDONLY, 0);
  if (!file) { fail("open"); return -1; }
  FILE *out = fopen(local, "wb");
  if (!out) { sftp_close(file); printf("error -1 cannot write %s\n", local); return -1; }
  char buffer[CHUNK];
  ssize_t n;
  long total = 0;
  while ((n = sftp_read(file, buffer, sizeof buffer)) > 0) {
    fwrite(buffer, 1, (size_t)n, out);
    total += (long)n;
  }
  fclose(out);
  sftp_close(file);
  if (n < 0) { fail("read"); return -1; }
  printf("ok %ld\n", total);
  return 0;
}

static const char *type_name(uint8_t type) {
  switch (type) {
    case SSH_FILEXFER_TYPE_REGULAR: return "file";
    case SSH_FILEXFER_TYPE_DIRECTORY: return "directory";
    case SSH_FILEXFER_TYPE_SYMLINK: return "symlink";
    default: return "other";
  }
}

static int show(sftp_attributes attrs, const char *what) {
  if (!attrs) { fail(what); return -1; }
  printf("ok type=%s size=%llu mode=%o\n", type_name(attrs->type), (unsigned long long)attrs->size, attrs->permissions & 07777);
  sftp_attributes_free(attrs);
  return 0;
}

static int list(const char *path) {
  sftp_dir dir = sftp_opendir(sftp, path);
  if (!dir) { fail("opendir"); return -1; }
  printf("ok");
  sftp_attributes attrs;
  while ((attrs = sftp_readdir(sftp, dir)) != NULL) {
    if (strcmp(attrs->name, ".") != 0 && strcmp(attrs->name, "..") != 0) printf(" %s:%llu", attrs->name, (unsigned long long)attrs->size);
    sftp_attributes_free(attrs);
  }
  printf("\n");
  int eof = sftp_dir_eof(dir);
  sftp_closedir(dir);
  return eof ? 0 : -1;
}

static int status(int rc, const char *what) {
  if (rc < 0) { fail(what); return -1; }
  printf("ok\n");
  return 0;
}

static int run(char *line) {
  char *command = strtok(line, " \n");
  char *a = strtok(NULL, " \n");
  char *b = strtok(NULL, " \n");
  if (!command) return 0;
  if (!strcmp(command, "put") && b) return put(a, b);
  if (!strcmp(command, "get") && b) return get(a, b);
  if (!strcmp(command, "stat") && a) return show(sftp_stat(sftp, a), "stat");
  if (!strcmp(command, "lstat") && a) return show(sftp_lstat(sftp, a), "lstat");
  if (!strcmp(command, "ls") && a) return list(a);
  if (!strcmp(command, "mkdir") && a) return status(sftp_mkdir(sftp, a, 0755), "mkdir");
  if (!strcmp(command, "rmdir") && a) return status(sftp_rmdir(sftp, a), "rmdir");
  if (!strcmp(command, "rm") && a) return status(sftp_unlink(sftp, a), "unlink");
  if (!strcmp(command, "rename") && b) return status(sftp_rename(sftp, a, b), "rename");
  if (!strcmp(command, "symlink") && b) return status(sftp_symlink(sftp, a, b), "symlink");
  if (!strcmp(command, "chmod") && b) return status(sftp_chmod(sftp, a, (mode_t)strtol(b, NULL, 8)), "chmod");
  if (!strcmp(command, "readlink") && a) {
    char *target = sftp_readlink(sftp, a);
    if (!target) { fail("readlink"); return -1; }
    printf("ok %s\n", target);
    ssh_string_free_char(target);
    return 0;
  }
  printf("error -1 unknown command %s\n", command);
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: %s HOST PORT USER PASSWORD < commands\n", argv[0]); return 2; }
  unsigned int port = (unsigned int)atoi(argv[2]);
  session = ssh_new();
  ssh_options_set(session, SSH_OPTIONS_HOST, argv[1]);
  ssh_options_set(session, SSH_OPTIONS_PORT, &port);
  ssh_options_set(session, SSH_OPTIONS_USER, argv[3]);
  if (ssh_connect(session) != SSH_OK) { fprintf(stderr, "connect: %s\n", ssh_get_error(session)); return 1; }
  // The host key is not checked: the test's server has a fresh key and this client no known_hosts.
  if (ssh_userauth_password(session, NULL, argv[4]) != SSH_AUTH_SUCCESS) { fprintf(stderr, "auth: %s\n", ssh_get_error(session)); return 1; }
  sftp = sftp_new(session);
  if (!sftp || sftp_init(sftp) != SSH_OK) { fprintf(stderr, "sftp: %s\n", ssh_get_error(session)); return 1; }
  char line[4096];
  int failures = 0;
  while (fgets(line, sizeof line, stdin)) {
    if (run(line) < 0) failures++;
    fflush(stdout);
  }
  sftp_free(sftp);
  ssh_disconnect(session);
  ssh_free(session);
  return failures > 0 ? 3 : 0;
}
