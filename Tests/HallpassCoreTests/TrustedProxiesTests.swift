import HallpassCore
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::1", "::1"), ("::", "::"), ("2001:DB8::1", "2001:db8::1"), ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("::ffff:10.1.2.3", "10.1.2.3"), ("::ffff:a01:203", "10.1.2.3"), ("64:ff9b::10.1.2.3", "64:ff9b::a01:203"),
        ("fe80::1:2", "fe80::1:2"),
    ])
    func parsesAndPrintsCanonically(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "+1.2.3.4", " 1.2.3.4",
                      "1::2::3", "1:::2", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1", "::1%eth0",
                      "[::1]", "1.2.3.4:80", "unknown", "1.2.3.4\u{0}", "١.٢.٣.٤", "::ffff:1.2.3"])
    func refusesWhatIsNotAnAddress(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [
        ("10.0.0.5", "10.0.0.5"), (" 10.0.0.5 ", "10.0.0.5"), ("10.0.0.5:51234", "10.0.0.5"),
        ("[2001:db8::7]:443", "2001:db8::7"), ("[2001:db8::7]", "2001:db8::7"), ("2001:db8::7", "2001:db8::7"),
    ])
    func readsForwardedEntries(text: String, canonical: String) {
        #expect(IPAddress(forwardedEntry: text)?.description == canonical)
    }

    @Test(arguments: ["", "unknown", "_hidden", "10.0.0.5:", "10.0.0.5:port", "[::1]x", "[::1]:", "[::1", "1.2.3.4:5:6"])
    func refusesBrokenForwardedEntries(text: String) {
        #expect(IPAddress(forwardedEntry: text) == nil)
    }

    @Test func rangesMatchByPrefix() throws {
        let ten = try #require(IPAddressRange("10.0.0.0/8"))
        #expect(ten.contains(IPAddress("10.255.1.2")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(!ten.contains(IPAddress("::ffff:11.0.0.1")!))
        #expect(ten.contains(IPAddress("::ffff:10.0.0.1")!), "an IPv4-mapped peer is the IPv4 address")
        let ula = try #require(IPAddressRange("fd00::/8"))
        #expect(ula.contains(IPAddress("fd12:3456::1")!))
        #expect(!ula.contains(IPAddress("fe80::1")!))
        #expect(!ula.contains(IPAddress("10.0.0.1")!))
        let odd = try #require(IPAddressRange("192.168.0.0/23"))
        #expect(odd.contains(IPAddress("192.168.1.200")!))
        #expect(!odd.contains(IPAddress("192.168.2.1")!))
        #expect(IPAddressRange("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(IPAddressRange("10.0.0.7")!.description == "10.0.0.7")
        #expect(IPAddressRange("10.0.0.7")!.contains(IPAddress("10.0.0.7")!))
        #expect(!IPAddressRange("10.0.0.7")!.contains(IPAddress("10.0.0.8")!))
    }

    @Test(arguments: ["10.0.0.1/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "localhost", "10.0.0.0/ 8"])
    func refusesBadRanges(text: String) {
        #expect(IPAddressRange(text) == nil)
    }
}

@Suite struct TrustedProxiesTests {
    let nginx = try! TrustedProxies(parsing: "127.0.0.1, 10.0.0.0/8 fd00::/8")

    @Test func parsesListsAndNamesTheBadEntry() throws {
        #expect(nginx.description == "127.0.0.1, 10.0.0.0/8, fd00::/8")
        #expect(try TrustedProxies(parsing: "none").isEmpty)
        #expect(try TrustedProxies(parsing: "").isEmpty)
        #expect(try TrustedProxies(parsing: "10.0.0.1,10.0.0.1").ranges.count == 1)
        #expect(throws: TrustedProxiesError.notAnAddress("10.0.0.1/8")) { try TrustedProxies(parsing: "127.0.0.1,10.0.0.1/8") }
        #expect(throws: TrustedProxiesError.notAnAddress("loadbalancer")) { try TrustedProxies(parsing: "loadbalancer") }
        #expect("\(TrustedProxiesError.notAnAddress("x"))".contains("'x' is not an IP address or CIDR block"))
    }

    @Test func withoutTrustedProxiesTheHeaderIsIgnored() {
        #expect(TrustedProxies.none.clientAddress(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"]) == "203.0.113.9")
        #expect(nginx.clientAddress(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"]) == "203.0.113.9",
                "a peer that is not a trusted proxy cannot name another address")
    }

    @Test func theRightmostUntrustedAddressIsTheClient() {
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.1"]) == "198.51.100.1")
        // The client wrote the first entry itself; nginx appended the address it saw.
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["6.6.6.6, 198.51.100.1"]) == "198.51.100.1")
        // Two proxies of ours in a row.
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["6.6.6.6, 198.51.100.1, 10.1.2.3"]) == "198.51.100.1")
        // Several field lines are one list, in order.
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["6.6.6.6", "198.51.100.1", "10.1.2.3"]) == "198.51.100.1")
        #expect(nginx.clientAddress(peer: "::ffff:127.0.0.1", forwardedFor: ["[2001:DB8::1]:5000"]) == "2001:db8::1")
        #expect(nginx.clientAddress(peer: "fd00::2", forwardedFor: ["198.51.100.1:4711"]) == "198.51.100.1")
    }

    @Test func aBrokenChainStopsAtTheLastHopWeCanVouchFor() {
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.1, garbage"]) == "127.0.0.1")
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["garbage, 10.9.9.9"]) == "10.9.9.9")
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.1,"]) == "127.0.0.1")
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["\u{1B}]0;x\u{7}"]) == "127.0.0.1")
    }

    @Test func allTrustedMeansTheLeftmost() {
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: ["10.0.0.9, 10.0.0.8"]) == "10.0.0.9")
        #expect(nginx.clientAddress(peer: "127.0.0.1", forwardedFor: []) == "127.0.0.1")
    }

    @Test func peersAreCanonical() {
        #expect(TrustedProxies.none.clientAddress(peer: "::ffff:198.51.100.1", forwardedFor: []) == "198.51.100.1")
        #expect(nginx.clientAddress(peer: "unknown", forwardedFor: ["198.51.100.1"]) == "unknown")
    }
}
