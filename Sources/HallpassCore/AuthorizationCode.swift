import Crypto
import Foundation

/// The secrets of a browser sign-in (RFC 6749 §4.1.2, §10.5), made from one random value:
///
/// - the **page handle**, 256 random bits, names the waiting page in its URL and subscribes the
///   page to the push channel (it is stored, like a device code, only as `SecretToken.hash`);
/// - the **authorization code** is derived from the handle by SHA-256 under a label of its
///   own, so every visit of a decided page redirects with the same code (RFC 6749 §4.1.2 allows
///   one code per request) while the store holds only the code's hash. Knowing a code reveals
///   nothing of the handle.
///
/// The code carries the handle's 256 bits of entropy (≥ 128, RFC 6749 §10.10) and lives
/// `GrantPolicy.authorizationCodeLifetime` after the approval.
public enum AuthorizationCode {
    public static func pageHandle(using random: any RandomSource) -> String {
        SecretToken.generate(using: random)
    }

    /// Is `text` shaped like a page handle (43 base64url characters)? Anything else is not
    /// looked up at all.
    public static func isPageHandle(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 43 && text.utf8.allSatisfy(PKCE.isBase64URL)
    }

    /// The code a page handle redirects with.
    public static func code(forPage handle: String) -> String {
        let digest = SHA256.hash(data: Data(("hallpass authorization code\u{0}" + handle).utf8))
        return "ac_" + Base64URL.encode(digest)
    }

    /// What the store keeps of the code.
    public static func storedHash(forPage handle: String) -> String {
        SecretToken.hash(code(forPage: handle))
    }
}
