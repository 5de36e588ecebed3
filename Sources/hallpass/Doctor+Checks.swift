import Foundation
import HallpassClient
import HallpassCore
import HallpassPostgres
import HallpassServer
import HallpassSQLite
import HallpassSSH
import NIOCore
import NIOSSL

/// The checks of `hallpass doctor`, in the order they are reported. Each reads what it checks and
/// turns it into findings with `SetupRules` (Core) where a rule is more than a lookup.
struct DoctorChecks {
    let settings: ServerSettings
    let now: Date
    let timeout: Int

    /// The day of this release: a clock before it is wrong (`SetupRules.clockAfterRelease`).
    static let releaseDay = Date(timeIntervalSince1970: 1_764_547_200)   // 2025-12-01

    func all() async -> [SetupFinding] {
        var findings = [SetupRules.clockAfterRelease(now: now, release: Self.releaseDay)]
        findings += settings.usesPostgres ? await postgres() : sqlite()
        findings += secretFiles()
        findings += tls()
        findings += await issuer()
        return findings
    }

    // MARK: database

    func sqlite() -> [SetupFinding] {
        let path = settings.databasePath
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: path) else {
            guard access(directory, W_OK) == 0 else {
                return [SetupFinding(.error, "database", "\(path) does not exist, and \(directory) is missing or not writable by \(Self.userName)",
                                     fix: "create \(directory) owned by the user that runs hallpass serve, mode 700")]
            }
            return [SetupFinding(.warning, "database", "\(path) does not exist yet", fix: "hallpass serve creates and migrates it on first start")]
        }
        var findings: [SetupFinding] = []
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            findings += fileFindings(file, subject: "database")
        }
        if access(path, W_OK) != 0 || access(directory, W_OK) != 0 {
            findings.append(SetupFinding(.error, "database", "\(Self.userName) cannot write \(access(path, W_OK) != 0 ? path : directory) (SQLite also writes -wal and -shm files beside it)",
                                         fix: "chown the directory and the database to the user that runs hallpass serve"))
        }
        do {
            let inspection = try SQLiteStore.inspect(path: path)
            findings.append(migrations(applied: inspection.applied, known: inspection.known, where: path))
            findings += signingKeys(inspection.keys.map { ($0.algorithm, $0.createdAt, $0.retired) })
        } catch let failure as SQLiteBackup.Failure {
            if case .notHallpass(_, let why) = failure, why == "it has no Hallpass tables" {
                findings.append(SetupFinding(.error, "database", "\(path) is not migrated: it has no Hallpass tables",
                                             fix: "check db names the right file; hallpass serve migrates a new database when it starts"))
            } else {
                findings.append(SetupFinding(.error, "database", failure.description, fix: "restore a backup (hallpass restore FILE) or point db at the right file"))
            }
        } catch {
            findings.append(SetupFinding(.error, "database", "cannot read \(path): \(error)", fix: "check the file and its permissions"))
        }
        return findings
    }

    func postgres() async -> [SetupFinding] {
        let name = settings.databaseDescription
        let status: PostgresStatus
        do {
            status = try await withDeadline { try await PostgresStore.status(url: settings.databasePath) }
        } catch {
            return [SetupFinding(.error, "database", "cannot reach \(name): \(error)",
                                 fix: "check that PostgreSQL runs, the URL's host, port, user and password, and pg_hba.conf")]
        }
        var findings = [SetupFinding.ok("database", "\(name) answers")]
        findings.append(migrations(applied: status.applied, known: status.known, where: name))
        if status.readOnly {
            findings.append(SetupFinding(.error, "database", "\(name) is a read-only standby", fix: "point db at the primary"))
        } else if !status.canWrite && status.applied.count == status.known.count {
            findings.append(SetupFinding(.error, "database", "the role in \(name) cannot write Hallpass's tables",
                                         fix: "GRANT INSERT, UPDATE, DELETE on them to that role, or connect as their owner"))
        }
        findings.append(SetupRules.clockSkew(local: Date(), remote: status.serverTime, remoteName: "PostgreSQL"))
        return findings
    }

    func migrations(applied: [String], known: [String], where name: String) -> SetupFinding {
        let unknown = applied.filter { !known.contains($0) }
        if !unknown.isEmpty {
            return SetupFinding(.error, "database", "\(name) was migrated by a newer Hallpass (\(unknown.joined(separator: ", ")))",
                                fix: "run that version, or restore a backup made by this one")
        }
        let missing = known.filter { !applied.contains($0) }
        if !missing.isEmpty {
            return SetupFinding(.error, "database", "\(name) is not migrated: \(applied.count) of \(known.count) migrations applied (missing \(missing.joined(separator: ", ")))",
                                fix: "start hallpass serve of this version once: it migrates before it serves (stop older replicas first)")
        }
        return .ok("database", "\(name) is migrated (\(known.count) of \(known.count))")
    }

    func signingKeys(_ keys: [(algorithm: String, createdAt: Date, retired: Bool)]) -> [SetupFinding] {
        let active = keys.filter { !$0.retired }
        guard let accessKey = active.first(where: { $0.algorithm != "RS256" }) else {
            return [SetupFinding(.warning, "signing keys", "none yet", fix: "hallpass serve makes them on first start")]
        }
        var findings: [SetupFinding] = []
        if accessKey.algorithm != settings.signingAlgorithm {
            findings.append(SetupFinding(.warning, "signing keys", "the active access-token key is \(accessKey.algorithm), signing_alg says \(settings.signingAlgorithm)",
                                         fix: "hallpass keys rotate --alg \(settings.signingAlgorithm), or set signing_alg = \"\(accessKey.algorithm)\""))
        }
        for key in active {
            let days = Int(now.timeIntervalSince(key.createdAt) / 86_400)
            if days > 365 {
                findings.append(SetupFinding(.warning, "signing keys", "the active \(key.algorithm) key is \(days) days old",
                                             fix: "hallpass keys rotate --alg \(key.algorithm)"))
            }
        }
        return findings.isEmpty ? [.ok("signing keys", active.map(\.algorithm).joined(separator: " and ") + " active")] : findings
    }

    // MARK: files

    /// The SSH host key and the TOTP key: secrets, so owner-only; both are made on first use.
    func secretFiles() -> [SetupFinding] {
        var findings: [SetupFinding] = []
        if settings.sshPort != nil {
            let path = SSHHostKey.defaultPath(forDatabase: settings.databasePath)
            findings += FileManager.default.fileExists(atPath: path)
                ? fileFindings(path, subject: "SSH host key")
                : [.ok("SSH host key", "\(path) is made on first start")]
        }
        let totp = settings.effectiveTOTPKeyFile
        findings += FileManager.default.fileExists(atPath: totp)
            ? fileFindings(totp, subject: "TOTP key")
            : [.ok("TOTP key", "\(totp) is made when hallpass serve first starts")]
        return findings
    }

    /// Mode (owner only), owner (the user running doctor) and readability of a secret file.
    /// `shared`: a file another user may own and hand to the service through its group.
    func fileFindings(_ path: String, subject: String, shared: Bool = false) -> [SetupFinding] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return [SetupFinding(.error, subject, "cannot stat \(path): \(String(cString: strerror(errno)))", fix: "check the directory's permissions")]
        }
        var findings = [SetupRules.secretFileMode(UInt16(info.st_mode & 0o7777), path: path, subject: subject, groupMayRead: shared)]
        if shared {
            if access(path, R_OK) != 0 {
                findings.append(SetupFinding(.error, subject, "\(Self.userName) cannot read \(path)",
                                             fix: "chgrp the file to the service's group and chmod 640 it"))
            }
        } else if info.st_uid != geteuid() {
            findings.append(SetupFinding(.warning, subject, "\(path) belongs to uid \(info.st_uid), not to \(Self.userName)",
                                         fix: "run doctor as the user that runs hallpass serve (sudo -u hallpass hallpass doctor …), or chown the file to it"))
        } else if access(path, R_OK) != 0 {
            findings.append(SetupFinding(.error, subject, "\(Self.userName) cannot read \(path)", fix: "chmod 600 \(path)"))
        }
        return findings
    }

    // MARK: TLS

    func tls() -> [SetupFinding] {
        guard let certPath = settings.tlsCertificatePath, let keyPath = settings.tlsKeyPath else { return [] }
        var findings: [SetupFinding] = []
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certPath)
            guard !chain.isEmpty else { throw CLIError("no certificate in it") }
        } catch {
            return [SetupFinding(.error, "TLS certificate", "cannot read \(certPath): \(error)", fix: "tls_cert names a PEM certificate chain, leaf first")]
        }
        findings += fileFindings(keyPath, subject: "TLS key", shared: true).filter { $0.severity != .ok }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            return findings + [SetupFinding(.error, "TLS key", "cannot read \(keyPath): \(error)", fix: "tls_key names the PEM private key of the certificate, unencrypted")]
        }
        let leaf = chain[0]
        findings.append(SetupRules.certificateValidity(notBefore: Date(timeIntervalSince1970: TimeInterval(leaf.notValidBefore)),
                                                       notAfter: Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter)),
                                                       now: now, path: certPath))
        // BoringSSL refuses a key that is not the leaf certificate's when a context is made.
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
            findings.append(.ok("TLS key", "\(keyPath) matches the certificate"))
        } catch {
            findings.append(SetupFinding(.error, "TLS key", "\(keyPath) is not the key of \(certPath)", fix: "set tls_key to the certificate's own key"))
        }
        return findings
    }

    // MARK: issuer

    func issuer() async -> [SetupFinding] {
        guard let url = URL(string: settings.effectiveIssuer) else { return [] }
        var findings = [SetupRules.issuerScheme(url)]
        guard let discovery = URL(string: settings.effectiveIssuer + "/.well-known/openid-configuration") else { return findings }
        do {
            let reply = try await withDeadline { try await HTTPClientTransport().send(discovery, timeout: .seconds(Int64(timeout))) }
            let advertised = (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["issuer"] as? String
            if reply.status != 200 || advertised == nil {
                findings.append(SetupFinding(.error, "issuer", "\(discovery.absoluteString) answers \(reply.status), not Hallpass's metadata",
                                             fix: "check that the issuer's host and path reach this server (proxy rules)"))
            } else if advertised != settings.effectiveIssuer {
                findings.append(SetupFinding(.error, "issuer", "the server at \(settings.effectiveIssuer) says its issuer is \(advertised!)",
                                             fix: "set the same issuer here and in the running server's configuration"))
            } else {
                findings.append(.ok("issuer", "\(settings.effectiveIssuer) answers with its metadata"))
            }
            if let date = reply.headers["date"].flatMap(Self.httpDate) {
                findings.append(SetupRules.clockSkew(local: Date(), remote: date, remoteName: "the issuer's server"))
            }
        } catch {
            findings.append(SetupFinding(.warning, "issuer", "cannot reach \(settings.effectiveIssuer) from this host: \(error)",
                                         fix: "start hallpass serve; clients must reach the issuer by this name"))
        }
        return findings
    }

    // MARK: helpers

    /// `body`, or a timeout error after `timeout` seconds, even when `body` ignores cancellation
    /// (a PostgreSQL connect): the server's `firstOf(deadline:)`.
    func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = timeout
        let outcome = await firstOf(deadline: .seconds(seconds)) { () async -> Result<T, any Error> in
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        guard let outcome else { throw CLIError("no answer in \(seconds) s") }
        return try outcome.get()
    }

    static var userName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "uid \(geteuid())" }
        return String(cString: name)
    }

    /// An IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
