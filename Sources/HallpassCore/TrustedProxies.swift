/// The proxies (load balancers) allowed to say who the client is, and how their word is read.
///
/// `X-Forwarded-For` is a list each proxy appends its peer to. Only entries appended by proxies
/// we trust are believed: starting from the socket's peer, walk the list right to left while the
/// hop we are at is trusted; the first untrusted address is the client. Anything left of it was
/// written by the client and may be forged, so a client cannot pick the address its failed
/// logins and code guesses are charged to. With no trusted proxies the header is ignored.
public struct TrustedProxies: Sendable, Equatable, CustomStringConvertible {
    public let ranges: [IPAddressRange]

    public static let none = TrustedProxies(ranges: [])

    /// The header field trusted proxies write.
    public static let headerName = "X-Forwarded-For"

    public init(ranges: [IPAddressRange]) {
        self.ranges = ranges
    }

    /// Parses a list such as `127.0.0.1, 10.0.0.0/8 ::1` (commas or spaces). `"none"` or an empty
    /// list trusts nobody.
    public init(parsing text: String) throws(TrustedProxiesError) {
        let entries = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" })
        if entries.map({ $0.lowercased() }) == ["none"] {
            self = .none
            return
        }
        var ranges: [IPAddressRange] = []
        for entry in entries {
            guard let range = IPAddressRange(entry) else { throw .notAnAddress(String(entry)) }
            if !ranges.contains(range) { ranges.append(range) }
        }
        self.init(ranges: ranges)
    }

    public var isEmpty: Bool { ranges.isEmpty }

    public func trusts(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The client's address for a request that arrived from `peer` carrying the
    /// `X-Forwarded-For` field lines `forwardedFor` (in order; several lines are one list).
    /// Returns the canonical text of the address, or `peer` unchanged when it is not an address.
    public func clientAddress(peer: String, forwardedFor: [String]) -> String {
        guard var hop = IPAddress(peer) else { return peer }
        guard trusts(hop), !forwardedFor.isEmpty else { return hop.description }
        let entries = forwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        for entry in entries.reversed() {
            // A hop we trust wrote this entry; an entry that is not an address means the chain
            // cannot be followed further, so the last hop we could vouch for is the answer.
            guard let address = IPAddress(forwardedEntry: entry) else { return hop.description }
            hop = address
            if !trusts(hop) { return hop.description }
        }
        // Every hop is a trusted proxy: the leftmost is as far as anyone can see.
        return hop.description
    }

    public var description: String {
        ranges.isEmpty ? "none" : ranges.map(\.description).joined(separator: ", ")
    }
}

public enum TrustedProxiesError: Error, Equatable, CustomStringConvertible {
    case notAnAddress(String)

    public var description: String {
        switch self {
        case .notAnAddress(let entry):
            "trusted proxy '\(entry)' is not an IP address or CIDR block (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)"
        }
    }
}
