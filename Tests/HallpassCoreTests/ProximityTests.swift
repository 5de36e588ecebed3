import HallpassCore
import Testing

/// BCP 247 proximity (issue 17): which addresses count as one network.
@Suite struct ProximityTests {
    @Test func addressesNetworksAndSites() throws {
        let cases: [(String, String, Proximity?)] = [
            ("203.0.113.7", "203.0.113.7", .sameAddress),
            ("203.0.113.7", "203.0.113.200", .sameNetwork),
            ("203.0.113.7", "203.0.114.7", .differentNetwork),
            ("2001:db8:1:2::1", "2001:db8:1:2f::9", .sameNetwork),       // one /56
            ("2001:db8:1:2::1", "2001:db8:1:200::1", .differentNetwork),
            ("::ffff:192.0.2.1", "192.0.2.99", .sameNetwork),            // mapped IPv4 is IPv4
            ("192.0.2.1", "2001:db8::1", .differentNetwork),
            ("unknown", "192.0.2.1", nil),
        ]
        for (device, approver, expected) in cases {
            #expect(Proximity.between(device: device, approver: approver) == expected, "\(device) ~ \(approver)")
        }
        let office = try AddressRanges(parsing: "10.1.0.0/16, 192.168.7.0/24")
        #expect(Proximity.between(device: "10.1.9.9", approver: "192.168.7.3", sites: [office.ranges]) == .sameNetwork)
        #expect(Proximity.between(device: "10.2.9.9", approver: "192.168.7.3", sites: [office.ranges]) == .differentNetwork)
    }

    @Test func addressListsParseStrictly() throws {
        #expect(try AddressRanges(parsing: "10.0.0.0/8, 2001:db8::/32,192.0.2.1").description == "10.0.0.0/8,2001:db8::/32,192.0.2.1")
        #expect(try AddressRanges(parsing: "10.0.0.0/8").contains("10.9.9.9"))
        #expect(try !AddressRanges(parsing: "10.0.0.0/8").contains("unknown"))
        #expect(throws: AddressRanges.Invalid(entry: "10.0.0.1/8")) { try AddressRanges(parsing: "10.0.0.1/8") }
        #expect(throws: AddressRanges.Invalid(entry: "office")) { try AddressRanges(parsing: "office") }
        #expect(OAuthClient.deviceNetworks(stored: "not a network")?.isEmpty == true)   // fails closed
        #expect(OAuthClient.deviceNetworks(stored: nil) == nil)
    }
}
