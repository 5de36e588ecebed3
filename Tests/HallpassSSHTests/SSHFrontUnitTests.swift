import Foundation
import HallpassCore
import HallpassServer
import HallpassSettings
@testable import HallpassSSH
import NIOConcurrencyHelpers
import Testing

@Suite struct SSHPublicKeyLineTests {
    // ssh-keygen -t ed25519; `ssh-keygen -lf` prints the same fingerprint.
    let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxDQILeWuHewSRmCKSoNft6fCSvZ+JNPXa4t5OOEqk+ someone@host"

    @Test func parsesAndFingerprintsLikeSshKeygen() throws {
        let key = try SSHPublicKeyLine(parsing: line + "\n")
        #expect(key.type == "ssh-ed25519" && key.comment == "someone@host")
        #expect(key.fingerprint == "SHA256:zLyP0bU4eEQp8U6VXoX4wHR8XphKDiQW1HcmwAKBIdA")
    }

    @Test func refusesWhatTheFrontCannotVerifyOrWhatLies() {
        #expect(throws: SSHPublicKeyLine.ParseError.empty) { try SSHPublicKeyLine(parsing: "  \n") }
        #expect(throws: SSHPublicKeyLine.ParseError.unsupportedType("ssh-rsa")) { try SSHPublicKeyLine(parsing: "ssh-rsa AAAAB3NzaC1yc2E= x") }
        #expect(throws: SSHPublicKeyLine.ParseError.badBase64) { try SSHPublicKeyLine(parsing: "ssh-ed25519 !!!") }
        // An ECDSA blob presented as Ed25519.
        #expect(throws: SSHPublicKeyLine.ParseError.typeMismatch) {
            try SSHPublicKeyLine(parsing: "ssh-ed25519 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=")
        }
    }
}

@Suite struct SSHHostKeyTests {
    @Test func isMadeOnceKeptPrivateAndReloaded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-ssh-\(UUID().uuidString)/keys")
        let path = dir.appendingPathComponent("ssh_host_ed25519_key").path
        let first = try SSHHostKey.loadOrCreate(at: path)
        let again = try SSHHostKey.loadOrCreate(at: path)
        #expect(first.fingerprint == again.fingerprint)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try "not a key".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SSHFrontError.self) { try SSHHostKey.loadOrCreate(at: path) }
    }
}

@Suite struct SSHSessionLaunchTests {
    let launch = SSHSessionLaunch(executable: "/usr/bin/hallpass", serverURL: "http://127.0.0.1:8080")

    @Test func theChildEnvironmentIsBuiltNotInherited() {
        let env = launch.environment(term: "tmux-256color", clientEnvironment: ["LANG": "zh_CN.UTF-8"])
        #expect(env == ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "TERM": "tmux-256color", "LANG": "zh_CN.UTF-8",
                        "LC_CTYPE": "C.UTF-8", "HALLPASS_SSH_SESSION_FD": "3"])
    }

    @Test func eachSessionGetsTheThemeConfiguredAtItsStart() {
        #expect(launch.arguments(user: "alice") == ["approve", "--server", "http://127.0.0.1:8080", "--user", "alice"])
        let theme = NIOLockedValueBox<String?>("midnight")
        let themed = SSHSessionLaunch(executable: "/usr/bin/hallpass", serverURL: "http://127.0.0.1:8080",
                                      theme: { theme.withLockedValue { $0 } })
        #expect(themed.arguments(user: "bob").suffix(2) == ["--theme", "midnight"])
        theme.withLockedValue { $0 = "high-contrast" }     // a SIGHUP reload
        #expect(themed.arguments(user: "bob").suffix(2) == ["--theme", "high-contrast"])
    }

    @Test func unknownTermsAndNonUTF8LocalesFallBack() {
        let env = launch.environment(term: "evil\u{1b}[0m", clientEnvironment: ["LC_CTYPE": "POSIX"])
        #expect(env["TERM"] == "xterm-256color" && env["LANG"] == "C.UTF-8" && env["LC_CTYPE"] == "C.UTF-8")
        #expect(!SSHSessionLaunch.isUTF8Locale("en_US.UTF-8; rm -rf /"))
        #expect(SSHSessionLaunch.isUTF8Locale("en_US.utf8"))
    }

    @Test func terminalSizesAreClamped() {
        #expect(TerminalSize(columns: 0, rows: 0) == TerminalSize(columns: 80, rows: 24))
        let huge = TerminalSize(columns: 100_000, rows: 100_000)
        #expect(huge.columns == 500 && huge.rows == 300)
        let tiny = TerminalSize(columns: 1, rows: 1)
        #expect(tiny.columns == 20 && tiny.rows == 5)
    }
}

@Suite struct PTYProcessTests {
    /// Everything the child wrote to its terminal, until it exits.
    func output(of process: PTYProcess) async -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(process.master, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }                      // EIO once the child has gone
            bytes += chunk[0..<count]
        }
        _ = await process.reap()
        close(process.master)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func theSessionArrivesOnFd3OnlyAndOnlyOnce() async throws {
        let script = "cat <&3; echo; cat <&3; echo END; ls /proc/self/fd; echo ENV=$HALLPASS_SECRET_CHECK"
        let child = try PTYProcess.spawn(executable: "/bin/sh", arguments: ["-c", script],
                                         environment: ["PATH": "/usr/bin:/bin"], size: TerminalSize(columns: 80, rows: 24),
                                         handover: "cs_secret")
        let text = await output(of: child).replacingOccurrences(of: "\r", with: "")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "cs_secret")
        #expect(lines.dropFirst().first == "END")              // a second read finds the pipe empty
        // fds 0-2 (the PTY), 3 (the pipe) and the one `ls` opens to list them: nothing of the server's.
        let fds = lines.drop { $0 != "END" }.dropFirst().prefix { !$0.hasPrefix("ENV=") }
            .flatMap { $0.split(separator: " ").map(String.init) }
        #expect(Set(fds).isSubset(of: ["0", "1", "2", "3", "4"]), "\(fds)")
    }

    @Test func withoutAHandoverTheChildHasOnlyItsTerminal() async throws {
        let child = try PTYProcess.spawn(executable: "/bin/sh", arguments: ["-c", "ls /proc/self/fd"],
                                         environment: ["PATH": "/usr/bin:/bin"], size: TerminalSize(columns: 80, rows: 24))
        let fds = await output(of: child).split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(Set(fds).isSubset(of: ["0", "1", "2", "3"]) && !fds.contains("4"), "\(fds)")
    }
}

@Suite struct SSHConsentAddressTests {
    @Test func parsesWhatTheServerAdvertisesIntoACommandToType() {
        #expect(SSHConsentAddress(uri: "ssh://auth.example.com:2222")?.command == "ssh -p 2222 auth.example.com")
        #expect(SSHConsentAddress(uri: "ssh://auth.example.com")?.command == "ssh auth.example.com")
        #expect(SSHConsentAddress(uri: "ssh://[::1]:2222") == SSHConsentAddress(uri: "ssh://[::1]:2222"))
        #expect(SSHConsentAddress(uri: "ssh://[::1]:2222")?.command == "ssh -p 2222 ::1")
    }

    @Test func refusesAnythingThatIsNotPlainlyAHostAndPort() {
        for hostile in ["http://a:22", "ssh://", "ssh://a@b:22", "ssh://a:22/path", "ssh://a;rm -rf ~:22",
                        "ssh://a\u{1b}[2J:22", "ssh://-oProxyCommand=x:22", "ssh://-oVisualHostKey:22", "ssh://a:0", "ssh://a:70000", "ssh://[::1",
                        "ssh://a:22x", "ssh://ａ:22"] {
            #expect(SSHConsentAddress(uri: hostile) == nil, "\(hostile)")
        }
    }

    @Test func theServerAdvertisesOnlyWhatPeopleCanReach() {
        var configuration = ServerSettings()
        (configuration.sshHost, configuration.sshPort) = (nil, nil)                   // --no-ssh
        #expect(configuration.sshConsentURI == nil)
        configuration = ServerSettings()                                       // the default front
        #expect(configuration.sshConsentURI == "ssh://127.0.0.1:2222")                // loopback issuer, loopback front
        configuration.issuer = URL(string: "https://auth.example.com/t/acme")
        #expect(configuration.sshConsentURI == nil)                                  // loopback only: unreachable for others
        configuration.sshHost = "0.0.0.0"
        #expect(configuration.sshConsentURI == "ssh://auth.example.com:2222")         // wildcard: the issuer's host
        configuration.sshHost = "192.0.2.7"
        #expect(configuration.sshConsentURI == "ssh://192.0.2.7:2222")
        configuration.sshHost = "::"
        configuration.issuer = URL(string: "http://[::1]:8080")
        #expect(configuration.sshConsentURI == "ssh://[::1]:2222")
        configuration.sshPort = 0
        #expect(configuration.sshConsentURI == nil)                                  // an ephemeral port is not known yet
    }

    @Test func sessionsTalkToTheirOwnReplicaNotThroughTheLoadBalancer() throws {
        var configuration = ServerSettings()
        configuration.issuer = URL(string: "https://auth.example.com/t/acme")
        configuration.host = "0.0.0.0"
        configuration.port = 8081
        #expect(configuration.localURL == "http://127.0.0.1:8081/t/acme")
        configuration.host = "::"
        #expect(configuration.localURL == "http://[::1]:8081/t/acme")
        configuration.host = "10.0.0.11"
        #expect(configuration.localURL == "http://10.0.0.11:8081/t/acme")
        configuration.host = "fd00::11"
        #expect(configuration.localURL == "http://[fd00::11]:8081/t/acme")
        configuration.port = 0                                    // not known before binding
        #expect(configuration.localURL == "https://auth.example.com/t/acme")
        configuration.port = 8443
        configuration.tlsCertificatePath = "cert.pem"             // the certificate names the public host
        configuration.tlsKeyPath = "key.pem"
        #expect(configuration.localURL == "https://auth.example.com/t/acme")
    }

    @Test func theConfigFileAndEnvironmentChooseOrTurnOffTheFront() throws {
        let on = try ServerSettings.load(file: nil, environment: ["HALLPASS_SSH_LISTEN": "0.0.0.0:2200"])
        #expect(on.sshHost == "0.0.0.0" && on.sshPort == 2200)
        let off = try ServerSettings.load(file: nil, environment: ["HALLPASS_SSH_LISTEN": "off"])
        #expect(off.sshHost == nil && off.sshPort == nil)
        #expect(throws: ConfigurationError.self) {
            try ServerSettings.load(file: nil, environment: ["HALLPASS_SSH_LISTEN": "somewhere"])
        }
    }
}
