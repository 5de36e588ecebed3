import Foundation

/// The issuer and the URLs derived from it, computed once from the configuration.
struct IssuerURLs: Sendable {
    let issuer: String
    /// The issuer's path ("" or "/t/acme"), under which every route is mounted.
    let basePath: String
    /// The push channel's WebSocket URL: ws:// or wss:// like the issuer's scheme.
    let pushURI: String

    init(issuer: String, basePath: String) {
        self.issuer = issuer
        self.basePath = basePath
        let push = issuer + "/oauth/device/push"
        if push.hasPrefix("https://") {
            pushURI = "wss://" + push.dropFirst(8)
        } else if push.hasPrefix("http://") {
            pushURI = "ws://" + push.dropFirst(7)
        } else {
            pushURI = push
        }
    }

    /// A URL under the issuer (RFC 8414 §3: endpoints live below the issuer's path).
    func endpoint(_ path: String) -> String { issuer + path }
}
