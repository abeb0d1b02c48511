"""Drives an SFTP server with AsyncSSH's client (its own SFTP code, not OpenSSH's).

Usage: asyncssh_client.py HOST PORT USER PASSWORD
Prints one JSON object of findings; exits non-zero (with the reason) on any mismatch.
AsyncSSH sends SYMLINK's paths link first to servers not named OpenSSH or
paramiko, and pipelines its transfers over several requests at once.
"""
import asyncio
import hashlib
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")  # the cryptography package's deprecations, printed on import
import asyncssh  # noqa: E402


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def run(host, port, user, password):
    findings = {}
    async with asyncssh.connect(host, port=port, username=user, password=password, known_hosts=None) as conn:
        async with conn.start_sftp_client() as sftp:
            findings["version"] = sftp.version
            with tempfile.TemporaryDirectory() as local:
                data = os.urandom(5 * 1024 * 1024 + 3)
                up = os.path.join(local, "up.bin")
                with open(up, "wb") as f:
                    f.write(data)
                await sftp.put(up, "up.bin")
                back = os.path.join(local, "back.bin")
                await sftp.get("up.bin", back)
                with open(back, "rb") as f:
                    check(f.read() == data, "the download differs from the upload")
                findings["sha256"] = hashlib.sha256(data).hexdigest()

                await sftp.makedirs("tree/a/b")
                await asyncio.gather(*[sftp.put(up, f"tree/a/b/copy{i}.bin") for i in range(8)])
                findings["listed"] = sorted(await sftp.listdir("tree/a/b"))

            await sftp.symlink("up.bin", "link")
            findings["readlink"] = await sftp.readlink("link")
            findings["linkIsLink"] = await sftp.islink("link")
            findings["sizeThroughLink"] = (await sftp.stat("link")).size

            await sftp.posix_rename("tree/a/b/copy0.bin", "tree/a/b/copy1.bin")
            await sftp.chmod("up.bin", 0o600)
            findings["mode"] = (await sftp.stat("up.bin")).permissions & 0o777
            await sftp.utime("up.bin", (1000000000, 1234567890))
            findings["mtime"] = (await sftp.stat("up.bin")).mtime
            try:
                await sftp.mkdir("tree")
                findings["mkdirExisting"] = "succeeded"
            except asyncssh.SFTPError as error:
                findings["mkdirExisting"] = type(error).__name__
            try:
                await sftp.stat("no/such/file")
                findings["missing"] = "found"
            except asyncssh.SFTPNoSuchFile:
                findings["missing"] = "SFTPNoSuchFile"
            await sftp.rmtree("tree")
            findings["treeGone"] = not await sftp.exists("tree")
    return findings


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    print(json.dumps(asyncio.run(run(host, port, user, password))))


if __name__ == "__main__":
    main()
