"""Independent cross-checks for qrs-enclave, driven by enclave/tests/it/pynacl.rs.

Reads one JSON request on stdin, writes one JSON answer on stdout. Uses PyNaCl (libsodium) for
NaCl boxes/secretboxes and argon2-cffi for Argon2; the LEGACY codec is re-implemented here from
Tessera's description (big-endian 8-byte lengths), independently of the Rust code.
"""
import base64
import json
import struct
import sys

import nacl.public
import nacl.secret
import nacl.utils
from argon2.low_level import Type, hash_secret_raw

b64d = base64.b64decode


def b64e(data):
    return base64.b64encode(data).decode()


def field(data):
    return struct.pack(">q", len(data)) + data


def array(items):
    return struct.pack(">q", len(items)) + b"".join(field(i) for i in items)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def remaining(self):
        return len(self.data) - self.pos

    def length(self):
        (n,) = struct.unpack_from(">q", self.data, self.pos)
        self.pos += 8
        assert 0 <= n <= self.remaining(), "bad length"
        return n

    def field(self):
        n = self.length()
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def array(self):
        return [self.field() for _ in range(self.length())]


def decode_legacy(data):
    r = Reader(data)
    p = {"sender": r.field(), "ct": r.field(), "nonce": r.field(), "boxes": r.array(), "rnonce": r.field()}
    p["keys"] = r.array() if r.remaining() else []
    p["flag"] = r.field()[0] if r.remaining() else 0
    return p


def open_payload(req):
    """Decrypts a LEGACY payload made by the Rust enclave, with PyNaCl only."""
    p = decode_legacy(b64d(req["payload"]))
    me = nacl.public.PrivateKey(b64d(req["private_key"]))
    my_pub = bytes(me.public_key)
    index = p["keys"].index(my_pub) if p["keys"] else 0
    shared = nacl.public.Box(me, nacl.public.PublicKey(p["sender"]))
    master_key = shared.decrypt(p["boxes"][index], p["rnonce"])
    plaintext = nacl.secret.SecretBox(master_key).decrypt(p["ct"], p["nonce"])
    return {"plaintext": b64e(plaintext), "recipient_count": len(p["boxes"]), "flag": p["flag"]}


def make_payload(req):
    """Encrypts like Tessera with PyNaCl and assembles LEGACY bytes by hand."""
    sender = nacl.public.PrivateKey(b64d(req["sender_private_key"]))
    recipients = [b64d(k) for k in req["recipients"]]
    master_key = nacl.utils.random(32)
    nonce = nacl.utils.random(24)
    rnonce = nacl.utils.random(24)
    ct = nacl.secret.SecretBox(master_key).encrypt(b64d(req["plaintext"]), nonce).ciphertext
    boxes = [
        nacl.public.Box(sender, nacl.public.PublicKey(r)).encrypt(master_key, rnonce).ciphertext
        for r in recipients
    ]
    out = field(bytes(sender.public_key)) + field(ct) + field(nonce) + array(boxes) + field(rnonce)
    layout = req.get("layout", "v2")
    if layout != "constellation":
        out += array(recipients)
    if layout == "v2":
        out += field(bytes([0])) + struct.pack(">q", 0)
    return {"payload": b64e(out)}


def raw_box(req):
    """One crypto_box between two keys, and the matching secretbox of a message."""
    sender = nacl.public.PrivateKey(b64d(req["sender_private_key"]))
    box = nacl.public.Box(sender, nacl.public.PublicKey(b64d(req["recipient"])))
    nonce = b64d(req["nonce"])
    return {
        "box": b64e(box.encrypt(b64d(req["message"]), nonce).ciphertext),
        "shared_key": b64e(box.shared_key()),
    }


def open_box(req):
    me = nacl.public.PrivateKey(b64d(req["private_key"]))
    box = nacl.public.Box(me, nacl.public.PublicKey(b64d(req["peer"])))
    return {"message": b64e(box.decrypt(b64d(req["box"]), b64d(req["nonce"])))}


def lock_key(req):
    """A locked (argon2sbox) key file made with argon2-cffi and PyNaCl."""
    variant = {"i": Type.I, "d": Type.D, "id": Type.ID}[req["variant"]]
    version = {"1.0": 0x10, "1.3": 0x13}[req.get("version", "1.3")]
    salt = nacl.utils.random(32)
    snonce = nacl.utils.random(24)
    key = hash_secret_raw(
        req["password"].encode(), salt, time_cost=req["iterations"], memory_cost=req["memory"],
        parallelism=req["parallelism"], hash_len=32, type=variant, version=version)
    sbox = nacl.secret.SecretBox(key).encrypt(b64d(req["private_key"]), snonce).ciphertext
    aopts = {"variant": req["variant"], "memory": req["memory"], "iterations": req["iterations"],
             "parallelism": req["parallelism"]}
    if "version" in req:
        aopts["version"] = req["version"]
    return {"key_file": json.dumps({"type": "argon2sbox", "data": {
        "aopts": aopts, "snonce": b64e(snonce), "asalt": b64e(salt), "sbox": b64e(sbox)}})}


def public_key(req):
    return {"public_key": b64e(bytes(nacl.public.PrivateKey(b64d(req["private_key"])).public_key))}


COMMANDS = {f.__name__: f for f in (open_payload, make_payload, raw_box, open_box, lock_key, public_key)}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(COMMANDS[request["command"]](request), sys.stdout)
