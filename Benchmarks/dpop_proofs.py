"""Writes N DPoP proofs (RFC 9449 §4.2), one per line, for one access token and one URL, signed
with the private JWK `hallpass login --dpop` keeps (Ed25519 or P-256): what a client sends, one
fresh proof per request, for Benchmarks/load/dpop.lua. Usage: dpop_proofs.py KEY_FILE TOKEN URL N"""
import base64
import hashlib
import json
import sys
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main(key_file, token, url, count):
    jwk = json.load(open(key_file))
    d = unb64(jwk.pop("d"))
    if jwk["kty"] == "OKP":
        key, alg = Ed25519PrivateKey.from_private_bytes(d), "EdDSA"
        sign = key.sign
    else:
        key, alg = ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1()), "ES256"

        def sign(data):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": alg, "jwk": jwk}, separators=(",", ":")).encode())
    ath = b64(hashlib.sha256(token.encode()).digest())
    iat = int(time.time())
    out = sys.stdout
    for _ in range(count):
        claims = b64(json.dumps({"jti": uuid.uuid4().hex, "htm": "GET", "htu": url, "iat": iat, "ath": ath},
                                separators=(",", ":")).encode())
        data = f"{header}.{claims}".encode()
        out.write(f"{header}.{claims}.{b64(sign(data))}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
