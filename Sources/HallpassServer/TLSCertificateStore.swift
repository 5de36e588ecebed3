import Foundation
import NIOConcurrencyHelpers
import NIOSSL

/// The TLS certificate and key `serve` presents, re-read on SIGHUP (issue 21) without a restart:
/// each new handshake takes the pair current at its ClientHello (NIOSSL's `sslContextCallback`),
/// connections already open keep theirs. A reload that fails (unreadable file, a key that is not
/// the certificate's) keeps the previous pair and says why.
public final class TLSCertificateStore: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: NIOLockedValueBox<Pair>

    struct Pair: Sendable {
        var chain: [NIOSSLCertificateSource]
        var key: NIOSSLPrivateKeySource
        var notValidAfter: Date
    }

    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = NIOLockedValueBox(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// Reads both files again; on success new handshakes use them. Returns the new leaf's expiry.
    @discardableResult
    public func reload() throws -> Date {
        let pair = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        current.withLockedValue { $0 = pair }
        return pair.notValidAfter
    }

    /// The server configuration: the pair loaded first, and the callback that swaps in the
    /// current one for every handshake.
    public var serverConfiguration: TLSConfiguration {
        let pair = current.withLockedValue { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: pair.chain, privateKey: pair.key)
        let current = self.current
        configuration.sslContextCallback = { _, promise in
            let pair = current.withLockedValue { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain
            override.privateKey = pair.key
            promise.succeed(override)
        }
        return configuration
    }

    static func load(certificatePath: String, keyPath: String) throws -> Pair {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(certificatePath)
            guard let leaf = certificates.first else { throw TLSLoadError("\(certificatePath) holds no certificate") }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            let chain = certificates.map { NIOSSLCertificateSource.certificate($0) }
            // BoringSSL checks that the key is the leaf's when a context is made.
            do {
                _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw TLSLoadError("\(keyPath) is not the private key of \(certificatePath)")
            }
            return Pair(chain: chain, key: .privateKey(key), notValidAfter: Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter)))
        } catch let error as TLSLoadError {
            throw error
        } catch {
            throw TLSLoadError("cannot load TLS certificate \(certificatePath) or key \(keyPath): \(error)")
        }
    }
}

public struct TLSLoadError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
