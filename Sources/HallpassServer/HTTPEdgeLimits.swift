import HallpassCore
import HallpassSettings
import Prometheus
import NIOConcurrencyHelpers
import NIOCore

/// How long an HTTP connection may take over each part of a request, and how many may be open
/// (`http_*` settings). The defaults hold off slow-loris clients without troubling real ones.
public struct HTTPEdgeLimits: Sendable, Equatable {
    /// From accepting a connection to the end of its first request head (`http_head_timeout`).
    public var headTimeout: Int64 = 10
    /// From the end of a head to the last byte of its body (`http_body_timeout`).
    public var bodyTimeout: Int64 = 10
    /// How long a kept-alive connection may wait for its next request — head included
    /// (`http_idle_timeout`).
    public var idleTimeout: Int64 = 60
    /// Open HTTP connections in all, push sockets included (`http_max_connections`).
    public var maxConnections = 30_000
    /// Open HTTP connections from one client address (`http_max_connections_per_address`);
    /// above the push budget of 200 sockets per address. Trusted proxies count only in the total.
    public var maxConnectionsPerAddress = 256
    public var scanner = HTTPRequestScanner.Limits()

    public init() {}

    /// The settings' names, as in a config file or `HALLPASS_*` variables.
    static let keys = ["http_head_timeout", "http_body_timeout", "http_idle_timeout",
                       "http_max_connections", "http_max_connections_per_address"]

    /// Applies one setting; `value` is a whole number of seconds or connections, at least 1.
    mutating func set(_ key: String, to value: String, origin: String) throws {
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)), number >= 1, number <= 1_000_000 else {
            throw ConfigurationError.invalid("\(origin): \(key) must be a whole number from 1 to 1000000, not '\(TerminalText.sanitize(value))'")
        }
        switch key {
        case "http_head_timeout": headTimeout = Int64(number)
        case "http_body_timeout": bodyTimeout = Int64(number)
        case "http_idle_timeout": idleTimeout = Int64(number)
        case "http_max_connections": maxConnections = number
        case "http_max_connections_per_address": maxConnectionsPerAddress = number
        default: break
        }
    }
}

/// Admission of HTTP connections by the same canonical client address as every other budget;
/// refused ones are closed before any handler, buffer or request task exists for them.
final class HTTPConnectionAdmission: Sendable {
    let limits: HTTPEdgeLimits
    let trusted: TrustedProxies
    private let counts = NIOLockedValueBox(ConnectionCounts())
    private let open: Gauge
    private let refusedPerAddress: Counter
    private let refusedTotal: Counter
    let rejectedRequests: Counter
    let timedOut: Counter

    init(limits: HTTPEdgeLimits, trusted: TrustedProxies, metrics: ServerMetrics) {
        self.limits = limits
        self.trusted = trusted
        open = metrics.registry.makeGauge(name: "hallpass_http_connections_open", help: "Open HTTP connections, push sockets included")
        refusedPerAddress = metrics.registry.makeCounter(
            name: "hallpass_http_connections_refused_total", labels: [("reason", "per_address")],
            help: "HTTP connections closed at accept because a limit was reached")
        refusedTotal = metrics.registry.makeCounter(
            name: "hallpass_http_connections_refused_total", labels: [("reason", "total")],
            help: "HTTP connections closed at accept because a limit was reached")
        rejectedRequests = metrics.registry.makeCounter(
            name: "hallpass_http_requests_rejected_total", help: "Malformed requests answered 4xx/5xx and closed at the edge")
        timedOut = metrics.registry.makeCounter(
            name: "hallpass_http_timeouts_total", help: "Connections closed for a slow request head or body")
    }

    /// Counts `channel` in if both limits allow; it is counted out when it closes.
    func admit(_ channel: any Channel) -> Bool {
        let address = HallpassRequestContext.canonical(channel.remoteAddress)
        // Behind a load balancer every connection is the balancer's: only the total applies.
        let perAddress = isTrustedProxy(address) ? Int.max : limits.maxConnectionsPerAddress
        let (admitted, total) = counts.withLockedValue { counts -> (Bool, Int) in
            if counts.admit(address, total: limits.maxConnections, perAddress: perAddress) { return (true, counts.total) }
            return (false, counts.total)
        }
        guard admitted else {
            (total >= limits.maxConnections ? refusedTotal : refusedPerAddress).increment()
            return false
        }
        open.set(Double(total))
        channel.closeFuture.whenComplete { _ in
            let total = self.counts.withLockedValue { counts in
                counts.release(address)
                return counts.total
            }
            self.open.set(Double(total))
        }
        return true
    }

    private func isTrustedProxy(_ address: String) -> Bool {
        guard !trusted.isEmpty, let ip = IPAddress(address) else { return false }
        return trusted.trusts(ip)
    }
}
