/// Where people reach the SSH consent front, as the server advertises it in its metadata
/// (`consent_ssh_uri`, an RFC 8414 §2 extension field): `ssh://HOST:PORT`.
public struct SSHConsentAddress: Sendable, Equatable {
    public let host: String
    public let port: Int

    /// Parses `ssh://HOST[:PORT]` (IPv6 in brackets). Anything else, user info, a path, or a
    /// host with characters a shell or terminal would treat specially, is refused: the result
    /// is shown to a person as a command to type.
    public init?(uri: String) {
        guard uri.hasPrefix("ssh://") else { return nil }
        var rest = Substring(uri.dropFirst("ssh://".count))
        var host: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), !host.isEmpty else { return nil }
        } else {
            let end = rest.firstIndex(of: ":") ?? rest.endIndex
            host = rest[..<end]
            rest = rest[end...]
            guard !host.isEmpty, host.first != "-", host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." })
            else { return nil }
        }
        var port = 22
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()), (1...65535).contains(number) else { return nil }
            port = number
        }
        self.host = String(host)
        self.port = port
    }

    /// What to type: `ssh -p 2222 auth.example.com` (`ssh HOST` on port 22).
    public var command: String {
        port == 22 ? "ssh \(host)" : "ssh -p \(port) \(host)"
    }
}
