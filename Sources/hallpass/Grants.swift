import ArgumentParser
import Foundation
import HallpassCore
import HallpassServer
import HallpassStore

/// `hallpass grants` (BCP 247 "detect and remediate", issue 17): the approved grants that still
/// hold tokens, and their revocation (the refresh family and its access tokens, at once for
/// introspection and userinfo).
struct Grants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and revoke approved grants that still hold tokens.",
        subcommands: [List.self, Revoke.self])

    /// Which grants: one user's, one client's, or all.
    struct Filter: ParsableArguments {
        @Option(help: "Only this user's grants.") var user: String?
        @Option(help: "Only this client's grants.") var client: String?

        func grants(in store: any HallpassStorage) async throws -> [LiveGrant] {
            var userID: Int64?
            if let user {
                guard let record = try await store.user(named: user) else { throw CLIError("no user \(TerminalText.sanitize(user))") }
                userID = record.user.id
            }
            return try await store.liveGrants(userID: userID, clientID: client, at: Date())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The live grants, newest first: one line each, or JSON lines.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var filter: Filter
        @Flag(help: "One JSON object per line, for scripts.") var json = false

        func run() async throws {
            try await runReporting {
                try await store.withStore { store in
                    for grant in try await filter.grants(in: store) { print(json ? Self.json(grant) : Self.line(grant)) }
                }
            }
        }

        static func line(_ g: LiveGrant) -> String {
            let approved = g.approvedAt.formatted(.iso8601)
            let refreshed = g.lastRefresh.map { "refreshed \($0.formatted(.iso8601))" } ?? "never refreshed"
            return [g.familyID, "client \(g.clientID) (“\(g.clientName ?? "")”, supplied by the client)", "user \(g.userName ?? String(g.userID))",
                    "approved \(approved)" + (g.approvedVia.map { " via \($0)" } ?? ""), refreshed, "device \(g.deviceIP ?? "?") \(g.userAgent ?? "")", "scope \(g.scopes)"]
                .map { TerminalText.sanitize($0) }.joined(separator: "\t")
        }

        static func json(_ g: LiveGrant) -> String {
            var object: [String: Any] = ["id": g.familyID, "client_id": g.clientID, "user_id": g.userID, "scope": g.scopes.description,
                                         "approved_at": Int(g.approvedAt.timeIntervalSince1970),
                                         "live_until": Int(g.liveUntil.timeIntervalSince1970)]
            object["client_name"] = g.clientName
            object["user"] = g.userName
            object["device_ip"] = g.deviceIP
            object["user_agent"] = g.userAgent
            object["last_refresh"] = g.lastRefresh.map { Int($0.timeIntervalSince1970) }
            object["approved_via"] = g.approvedVia
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke grants: one by its id (from grants list), or every live grant of --user or --client.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The grant's id (fam_…).") var id: String?
        @OptionGroup var filter: Filter

        func validate() throws {
            guard (id != nil) != (filter.user != nil || filter.client != nil) else {
                throw ValidationError("give a grant id, or --user and/or --client")
            }
        }

        func run() async throws {
            try await runReporting {
                try await store.withStore { store in
                    let targets: [String]
                    if let id {
                        guard try await store.family(id: id)?.revokedAt == nil, try await store.family(id: id) != nil else {
                            throw CLIError("no live grant \(TerminalText.sanitize(id)) (see hallpass grants list)")
                        }
                        targets = [id]
                    } else {
                        targets = try await filter.grants(in: store).map(\.familyID)
                    }
                    let now = Date()
                    // The server's audit trail, shared with it (each line under the file's lock).
                    let settings = try self.store.serverSettings()
                    let audit = try settings.effectiveAuditLog.flatMap { $0 == "-" ? nil : try AuditTrail.open($0) } ?? .disabled
                    let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "admin"
                    for family in targets {
                        try await store.revokeFamily(family, at: now)
                        audit.record("revocation", outcome: "ok", actor: who, client: try await store.family(id: family)?.clientID,
                                     grant: family, detail: "hallpass grants revoke")
                    }
                    print("revoked \(targets.count) grant\(targets.count == 1 ? "" : "s"): their refresh and access tokens no longer work")
                }
            }
        }
    }
}
