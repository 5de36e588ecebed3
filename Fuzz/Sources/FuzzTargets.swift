import Foundation
import HallpassCore
import HallpassTUI

/// libFuzzer entry point for the parsers that read what clients, devices and key files supply.
/// `HALLPASS_FUZZ_TARGET` picks the parser (scripts/fuzz.sh sets it); besides not crashing,
/// each target checks a property that must hold for every input.
let fuzzTarget = ProcessInfo.processInfo.environment["HALLPASS_FUZZ_TARGET"] ?? ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 || start == nil ? [] : Array(UnsafeBufferPointer(start: start, count: count))
    switch fuzzTarget {
    case "form": fuzzForm(bytes)
    case "user-code": fuzzUserCode(bytes)
    case "ssh-key": fuzzSSHKey(bytes)
    case "theme": fuzzTheme(bytes)
    case "ip": fuzzIP(bytes)
    case "http-head": fuzzHTTPHead(bytes)
    case "utf8": fuzzStrictUTF8(bytes)
    case "dpop": fuzzDPoP(bytes)
    default: fatalError("set HALLPASS_FUZZ_TARGET to form, user-code, ssh-key, theme, ip, http-head, utf8 or dpop")
    }
    return 0
}

/// Administrator text (`StrictUTF8`): accepts exactly what the standard library validates, and
/// a refusal points at the first bad byte: everything before it is valid, and it is inside.
func fuzzStrictUTF8(_ bytes: [UInt8]) {
    let expected = String(validating: bytes, as: UTF8.self)
    do {
        let text = try StrictUTF8.decode(bytes)
        check(text == expected && Array(text.utf8) == bytes, "accepted text changed or was not valid")
    } catch {
        check(expected == nil, "refused valid UTF-8")
        check(error.offset < bytes.count && !error.bytes.isEmpty, "bad sequence outside the input")
        check(Array(bytes[error.offset..<(error.offset + error.bytes.count)]) == error.bytes, "bad sequence misplaced")
        check(String(validating: bytes[..<error.offset], as: UTF8.self) != nil, "bytes before the reported one are not valid")
        check(error.line == bytes[..<error.offset].count { $0 == 0x0A } + 1 && error.column >= 1, "wrong line or column")
        check(!error.shown.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control character shown raw")
    }
}

/// DPoP proofs (RFC 9449 §4.3) and target URIs: a proof either passes every check or is refused
/// with a reason; normalizing a URI twice changes nothing; a proof that parses names the
/// thumbprint of the key it carries.
func fuzzDPoP(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let once = DPoPProof.normalizedURI(text) {
        check(DPoPProof.normalizedURI(once) == once, "normalizing \(once) again changed it")
    }
    if let proof = try? DPoPProof.parse(text) {
        check(proof.thumbprint == proof.key.thumbprint && proof.key.algorithms.contains(proof.algorithm), "proof and key disagree")
    }
    let context = DPoPProof.Context(method: "POST", uri: "https://auth.example/oauth/token", accessToken: "at", boundThumbprint: "x")
    _ = try? DPoPProof.check(headers: [text], context: context, now: Date(timeIntervalSince1970: 1_800_000_000))
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// RFC 6749 Appendix B form bodies: any bytes parse or throw an OAuth error, and what parses
/// survives being percent-encoded again and parsed back.
func fuzzForm(_ bytes: [UInt8]) {
    guard let form = try? FormBody(parsing: bytes) else { return }
    func encode(_ text: String) -> String { text.utf8.map { "%" + String($0, radix: 16, uppercase: true).leftPadded }.joined() }
    let again = form.fields.map { encode($0.key) + "=" + encode($0.value) }.joined(separator: "&")
    check((try? FormBody(parsing: Array(again.utf8)))?.fields == form.fields, "form fields do not survive re-encoding")
}

extension String {
    var leftPadded: String { count == 1 ? "0" + self : self }
}

/// User codes: whatever normalises must print and parse back to itself.
func fuzzUserCode(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let code = try? UserCode(parsing: text) else { return }
    check((try? UserCode(parsing: code.description)) == code, "user code \(code) does not parse back")
}

/// `authorized_keys`-style lines: a parsed key prints to a line that parses to the same key.
func fuzzSSHKey(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let key = try? SSHPublicKeyLine(parsing: text) else { return }
    let again = try? SSHPublicKeyLine(parsing: "\(key.type) \(key.blob)")
    check(again?.type == key.type && again?.blob == key.blob, "SSH key line does not parse back")
}

/// Theme files: parse or a ThemeError naming a line of the file.
func fuzzTheme(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        _ = try ThemeFile.parse(text, file: "fuzz.toml")
    } catch {
        let lines = text.unicodeScalars.filter { $0 == "\n" }.count + 1
        check(error.line >= 1 && error.line <= max(lines, 1), "theme error on line \(error.line) of \(lines)")
    }
}

/// Addresses and ranges: what parses prints canonically (RFC 5952) and parses back the same.
func fuzzIP(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let address = IPAddress(text) {
        check(IPAddress(address.description) == address, "\(address) does not parse back")
    }
    if let range = IPAddressRange(text) {
        check(IPAddressRange(range.description) == range, "\(range) does not parse back")
        check(range.contains(range.network), "\(range) does not contain its network")
    }
    _ = IPAddress(forwardedEntry: text)
    _ = try? TrustedProxies(parsing: text)
}

/// The request framing the server owns: fed whole or in pieces (the first byte picks the
/// piece size), the scanner reports the same events, always makes progress, and never frames
/// anything after a refusal.
func fuzzHTTPHead(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let input = Array(bytes.dropFirst())
    let whole = scanEvents(input, piece: input.count)
    let pieces = scanEvents(input, piece: Int(first % 16) + 1)
    check(whole == pieces, "events differ when fed in pieces: \(whole) vs \(pieces)")
}

func scanEvents(_ bytes: [UInt8], piece: Int) -> [HTTPRequestScanner.Event] {
    var scanner = HTTPRequestScanner()
    var events: [HTTPRequestScanner.Event] = []
    var start = 0
    while start < bytes.count {
        var chunk = bytes[start..<min(bytes.count, start + max(piece, 1))]
        start += chunk.count
        while !chunk.isEmpty {
            let (consumed, event) = scanner.scan(chunk)
            check(consumed <= chunk.count, "consumed more than it was given")
            check(consumed > 0 || event != nil, "no progress")
            chunk = chunk.dropFirst(consumed)
            guard let event else { continue }
            events.append(event)
            if case .rejected = event {
                if case .rejected = scanner.scan([0x47]).event {} else { check(false, "framed after a refusal") }
                return events
            }
        }
    }
    return events
}

/// SwiftPM links an executable's entry point as `<product>_main`; hand control to libFuzzer's
/// driver from there (libFuzzer's own `main` is not used).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("hallpass_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOne)
}
