import Foundation
import HallpassCore
import HallpassStore
import HummingbirdWebSocket
import Logging
import NIOWebSocket

/// One push socket, start to end (DESIGN §4): the subscription frame, `subscribed`, then exactly
/// one of `approved`, `denied`, `expired`, then close. Devices subscribe with their device_code;
/// approvers' screens with their consent session and the user code on the screen.
struct PushSession {
    let hub: DevicePushHub
    let address: String
    let forDevice: Bool

    var server: AuthorizationServer { hub.server }

    struct Refusal: Error {
        var code: WebSocketErrorCode
        var reason: String
    }

    /// What the socket's conversation reacts to, from the reader, the bus and the timers.
    enum Signal: Sendable {
        case text(String), binary, ended, subscribeTimeout, news(GrantOutcome)
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async {
        let (signals, sink) = AsyncStream<Signal>.makeStream()
        let maxFrame = hub.limits.maxFrame
        let timeout = hub.limits.subscribeTimeout
        var helpers = [
            Task {
                do {
                    for try await message in inbound.messages(maxSize: maxFrame) {
                        if case .text(let text) = message { sink.yield(.text(text)) } else { sink.yield(.binary) }
                    }
                } catch {}
                sink.yield(.ended)
            },
            Task {
                try? await Task.sleep(for: timeout)
                sink.yield(.subscribeTimeout)
            },
        ]
        defer { helpers.forEach { $0.cancel() } }
        var iterator = signals.makeAsyncIterator()
        do {
            guard let first = await iterator.next() else { return }
            helpers[1].cancel()   // the subscription timeout has done its job
            let text: String
            switch first {
            case .text(let t): text = t
            case .binary: throw Refusal(code: .unacceptableData, reason: "the first frame must be a JSON text frame")
            case .subscribeTimeout: throw Refusal(code: .policyViolation, reason: "send the subscription as the first frame")
            case .ended, .news: return
            }
            let grant = try await (forDevice ? deviceGrant(text) : approverGrant(text))
            let id = grant.id ?? 0
            if forDevice {
                guard hub.claim(grantID: id) else {
                    throw Refusal(code: .policyViolation, reason: "too many sockets for this grant")
                }
            }
            defer { if forDevice { hub.unclaim(grantID: id) } }
            // Subscribe first, then read the truth, so no decision can slip between the two.
            let subscription = server.events.listen(grantID: id) { sink.yield(.news($0.outcome)) }
            defer { subscription.cancel() }
            let expiry = max(0, grant.expiresAt.timeIntervalSince(server.clock.now))
            helpers.append(Task {
                try? await Task.sleep(for: .milliseconds(Int(expiry * 1000) + 20))
                if !Task.isCancelled { sink.yield(.news(.expired)) }
            })
            var outcome = try await currentOutcome(grant)
            try await outbound.write(.text("{\"event\":\"subscribed\",\"expires_in\":\(grant.secondsLeft(at: server.clock.now))}"))
            while outcome == nil, let signal = await iterator.next() {
                switch signal {
                case .news(let news): outcome = try await currentOutcome(grant) ?? (news == .expired ? .expired : nil)
                case .ended: return            // the client went away
                case .text, .binary, .subscribeTimeout: continue
                }
            }
            guard let outcome else { return }
            try await outbound.write(.text("{\"event\":\"\(outcome.rawValue)\"}"))
            server.metrics.pushDelivered.increment()
            try await outbound.close(.normalClosure, reason: nil)
        } catch let refusal as Refusal {
            try? await outbound.close(refusal.code, reason: refusal.reason)
        } catch let error as OAuthError {
            try? await outbound.close(.policyViolation, reason: error.errorDescription ?? error.code.description)
        } catch {
            logger.debug("push socket ended: \(String(describing: error))")
        }
    }

    private func object(_ text: String, keys: Set<String>) throws -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              Set(object.keys) == keys else {
            throw Refusal(code: .unacceptableData, reason: "expected {\(keys.sorted().map { "\"\($0)\":\"…\"" }.joined(separator: ","))}")
        }
        var values: [String: String] = [:]
        for (key, value) in object {
            guard let string = value as? String, string.utf8.count <= 512 else {
                throw Refusal(code: .unacceptableData, reason: "\(key) must be a short string")
            }
            values[key] = string
        }
        return values
    }

    /// A device's grant by device_code; an unknown one counts like a failed redemption.
    private func deviceGrant(_ text: String) async throws -> DeviceGrant {
        let code = try object(text, keys: ["device_code"])["device_code"]!
        if let blocked = server.failedRedemptionBlock(address: address) {
            throw Refusal(code: .policyViolation, reason: "too many unknown device codes; try again in \(blocked) seconds")
        }
        guard let grant = try await server.store.grant(deviceCodeHash: SecretToken.hash(code)) else {
            server.recordFailedRedemption(address: address)
            throw Refusal(code: .policyViolation, reason: "unknown device_code")
        }
        return grant
    }

    /// An approver's grant: a live consent session and the pending user code on its screen,
    /// charged to the same budgets as a lookup.
    private func approverGrant(_ text: String) async throws -> DeviceGrant {
        let fields = try object(text, keys: ["session", "user_code"])
        let desk = ConsentDesk(server: server)
        let session = try await desk.session(bearer: fields["session"])
        return try await desk.pendingGrant(code: fields["user_code"]!, session: session, source: address)
    }

    /// The grant's outcome as the store has it now; nil while it is still pending.
    private func currentOutcome(_ grant: DeviceGrant) async throws -> GrantOutcome? {
        let current = try await server.store.grant(deviceCodeHash: grant.deviceCodeHash) ?? grant
        return current.outcome(at: server.clock.now)
    }
}
