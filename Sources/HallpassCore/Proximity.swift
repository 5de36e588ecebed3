import Foundation

/// Where the device that asked stands relative to the person approving (RFC 10027 / BCP 247
/// §6.1.1, "establish proximity"): the same address, the same network, or another network. A
/// device-code phishing victim approves from their own network a request the attacker started
/// from theirs; saying so on the consent screen is the mitigation a terminal can show.
public enum Proximity: String, Codable, Sendable, Equatable {
    case sameAddress = "same_address"
    case sameNetwork = "same_network"
    case differentNetwork = "different_network"

    /// Two addresses are on one network when they share a /24 (IPv4) or a /56 (IPv6), or when
    /// both are inside one of the operator's `sites` (each site a list of ranges: an office's
    /// Wi-Fi and its wired network, say). Nil when either address is not an IP address.
    public static func between(device: String, approver: String, sites: [[IPAddressRange]] = []) -> Proximity? {
        guard let a = IPAddress(device), let b = IPAddress(approver) else { return nil }
        if a == b { return .sameAddress }
        if a.isIPv4 == b.isIPv4 {
            let prefix = a.isIPv4 ? 3 : 7      // bytes: /24, /56
            if a.bytes.prefix(prefix) == b.bytes.prefix(prefix) { return .sameNetwork }
        }
        for site in sites where site.contains(where: { $0.contains(a) }) && site.contains(where: { $0.contains(b) }) {
            return .sameNetwork
        }
        return .differentNetwork
    }
}

/// What a client's consent does with proximity (`clients add --proximity`): nothing, a warning
/// on the screen (the default), or a refusal of approvals from another network.
public enum ProximityPolicy: String, Codable, Sendable, CaseIterable {
    case off, warn, require
}

/// A list of address ranges written `CIDR[,CIDR…]` (a bare address is its own /32 or /128):
/// a client's `device_networks`, one of the server's `sites`.
public struct AddressRanges: Sendable, Equatable, CustomStringConvertible {
    public let ranges: [IPAddressRange]

    public init(ranges: [IPAddressRange]) { self.ranges = ranges }

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let entry: String
        public init(entry: String) { self.entry = entry }
        public var description: String { "'\(entry)' is not an IP address or CIDR block (like 192.0.2.0/24 or 2001:db8::/32)" }
    }

    public init(parsing text: String) throws(Invalid) {
        var ranges: [IPAddressRange] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let range = IPAddressRange(trimmed) else { throw Invalid(entry: trimmed) }
            ranges.append(range)
        }
        self.ranges = ranges
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` (text) is inside one of the ranges; an unparseable address is not.
    public func contains(_ address: String) -> Bool {
        guard let ip = IPAddress(address) else { return false }
        return ranges.contains { $0.contains(ip) }
    }

    public var description: String { ranges.map(\.description).joined(separator: ",") }
}
