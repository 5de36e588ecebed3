import Crypto
import Foundation

/// High-entropy bearer secrets (device codes, refresh tokens, consent sessions, generated
/// client secrets). Only their SHA-256 digest is ever stored (ARCHITECTURE.md §5); with 256 random bits
/// a fast hash is enough, the way fosite stores HMAC signatures of codes.
public enum SecretToken {
    /// 32 random bytes (256 bits, RFC 8628 §5.2 requires a device code to be unguessable),
    /// base64url without padding: 43 characters.
    public static func generate(using random: any RandomSource, prefix: String = "") -> String {
        prefix + Base64URL.encode(random.bytes(32))
    }

    /// The stored form: hex SHA-256 of the token's UTF-8 bytes.
    public static func hash(_ token: String) -> String {
        let digest = SHA256.hash(data: Data(token.utf8))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// base64url without padding (RFC 4648 §5), as JOSE and OAuth use it.
public enum Base64URL {
    /// RFC 4648 §5 without padding. Byte-wise (no string searching): tokens and DPoP proofs are
    /// encoded and decoded on every request.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let standard = Data(bytes).base64EncodedData()
        var out = [UInt8]()
        out.reserveCapacity(standard.count)
        for byte in standard {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): break
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Base64url, padded or not; standard base64's `+` and `/` pass too (`decodeStrict` takes
    /// only base64url).
    public static func decode(_ text: String) -> Data? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            default: bytes.append(byte)
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }
}
