/*
 * A small SFTP client on JSch (the SFTP library of Jenkins, Ant, Spring
 * Integration and many JVM tools), for test/e2e/libraryClients.test.ts: the
 * same commands and output as test/e2e/libssh/sftp-client.c. It logs in with
 * a password and runs one command per line of standard input, printing
 * exactly one line for each: "ok [result]" or "error <SFTP status> <message>".
 *
 *   java -cp jsch.jar SftpClient.java HOST PORT USER PASSWORD < commands
 */
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.util.Vector;

public class SftpClient {
  public static void main(String[] args) throws Exception {
    JSch jsch = new JSch();
    Session session = jsch.getSession(args[2], args[0], Integer.parseInt(args[1]));
    session.setPassword(args[3]);
    // The host key is not checked: the test's server has a fresh key and this client no known_hosts.
    session.setConfig("StrictHostKeyChecking", "no");
    session.connect(30000);
    ChannelSftp sftp = (ChannelSftp) session.openChannel("sftp");
    sftp.connect(30000);
    BufferedReader input = new BufferedReader(new InputStreamReader(System.in));
    int failures = 0;
    for (String line; (line = input.readLine()) != null; ) {
      String[] words = line.trim().split(" ");
      try {
        System.out.println("ok" + run(sftp, words));
      } catch (SftpException e) {
        System.out.println("error " + e.id + " " + words[0] + ": " + e.getMessage());
        failures++;
      }
      System.out.flush();
    }
    sftp.disconnect();
    session.disconnect();
    System.exit(failures > 0 ? 3 : 0);
  }

  /** Runs one command; returns what follows "ok" on its line. */
  static String run(ChannelSftp sftp, String[] words) throws SftpException {
    switch (words[0]) {
      case "put": sftp.put(words[1], words[2]); return " " + new File(words[1]).length();
      case "get": sftp.get(words[1], words[2]); return " " + new File(words[2]).length();
      case "stat": return show(sftp.stat(words[1]));
      case "lstat": return show(sftp.lstat(words[1]));
      case "ls": return list(sftp.ls(words[1]));
      case "mkdir": sftp.mkdir(words[1]); return "";
      case "rmdir": sftp.rmdir(words[1]); return "";
      case "rm": sftp.rm(words[1]); return "";
      case "rename": sftp.rename(words[1], words[2]); return "";
      case "symlink": sftp.symlink(words[1], words[2]); return "";
      case "readlink": return " " + sftp.readlink(words[1]);
      case "chmod": sftp.chmod(Integer.parseInt(words[2], 8), words[1]); return "";
      default: throw new SftpException(-1, "unknown command " + words[0]);
    }
  }

  static String show(SftpATTRS attrs) {
    String type = attrs.isLink() ? "symlink" : attrs.isDir() ? "directory" : attrs.isReg() ? "file" : "other";
    return " type=" + type + " size=" + attrs.getSize() + " mode=" + Integer.toOctalString(attrs.getPermissions() & 07777);
  }

  static String list(Vector<?> entries) {
    StringBuilder line = new StringBuilder();
    for (Object item : entries) {
      ChannelSftp.LsEntry entry = (ChannelSftp.LsEntry) item;
      String name = entry.getFilename();
      if (!name.equals(".") && !name.equals("..")) line.append(' ').append(name).append(':').append(entry.getAttrs().getSize());
    }
    return line.toString();
  }
}
