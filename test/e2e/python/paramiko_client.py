"""Drives an SFTP server with paramiko's client, as a Python user would.

Usage: paramiko_client.py HOST PORT USER PASSWORD
Expects a directory "many" of entries named entry-0..entry-4999 on the server.
Prints one JSON object of findings; exits non-zero (with the reason) on any mismatch.
"""
import hashlib
import json
import random
import stat
import sys

import paramiko


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def random_access(sftp, rng):
    size = 3 * 1024 * 1024 + 17
    mirror = bytearray(size)
    with sftp.open("rand.bin", "w+") as f:
        f.truncate(size)
        # Writes at random offsets, some overlapping, none in order.
        for _ in range(100):
            offset = rng.randrange(0, size - 70000)
            data = rng.randbytes(rng.randrange(1, 70000))
            f.seek(offset)
            f.write(data)
            mirror[offset:offset + len(data)] = data
        f.flush()
        for _ in range(100):
            offset = rng.randrange(0, size)
            length = rng.randrange(1, 100000)
            f.seek(offset)
            got = f.read(length)
            check(got == bytes(mirror[offset:offset + length]), f"read at {offset}+{length} differs")
    with sftp.open("rand.bin", "r") as f:
        whole = f.read()
    check(whole == bytes(mirror), "whole file differs from what was written")
    return bytes(mirror)


def posix_rename(sftp):
    for name, text in (("a.txt", b"A"), ("b.txt", b"B")):
        with sftp.open(name, "w") as f:
            f.write(text)
    try:
        sftp.rename("a.txt", "b.txt")
        plain_rename_replaced = True
    except IOError:
        plain_rename_replaced = False
    sftp.posix_rename("a.txt", "b.txt")
    with sftp.open("b.txt", "r") as f:
        check(f.read() == b"A", "posix_rename did not replace the target")
    check("a.txt" not in sftp.listdir("."), "posix_rename left the source behind")
    return plain_rename_replaced


def check_file(sftp, content):
    results = {}
    with sftp.open("rand.bin", "r") as f:
        for algorithm in ("md5", "sha1", "sha256"):
            got = f.check(algorithm)
            check(got == hashlib.new(algorithm, content).digest(), f"check({algorithm}) differs from hashlib")
            results[algorithm] = got.hex()
        block = 65536
        got = f.check("sha1", 1000, 300000, block)
        expected = b"".join(hashlib.sha1(content[o:min(o + block, 301000)]).digest() for o in range(1000, 301000, block))
        check(got == expected, "block-wise check differs from hashlib")
        results["blocks"] = len(got) // 20
    return results


def listdir_attr(sftp):
    entries = sftp.listdir_attr("many")
    names = [entry.filename for entry in entries]
    check(len(names) == len(set(names)), "a name was listed twice")
    check(all(stat.S_ISREG(entry.st_mode) for entry in entries), "an entry is not a regular file")
    check(set(names) == {f"entry-{i}" for i in range(5000)}, "names differ from entry-0..entry-4999")
    return len(names)


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    transport = paramiko.Transport((host, port))
    transport.connect(username=user, password=password)
    try:
        sftp = paramiko.SFTPClient.from_transport(transport)
        rng = random.Random(20240607)
        content = random_access(sftp, rng)
        findings = {
            "randomAccessBytes": len(content),
            "plainRenameReplaced": posix_rename(sftp),
            "checkFile": check_file(sftp, content),
            "listed": listdir_attr(sftp),
        }
        sftp.close()
    finally:
        transport.close()
    print(json.dumps(findings))


if __name__ == "__main__":
    main()
