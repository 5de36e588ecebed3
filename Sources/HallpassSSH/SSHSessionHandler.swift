import Foundation
import HallpassCore
import NIOCore
import NIOPosix
import NIOSSH

/// What a session runs: `hallpass approve` against this server, as the authenticated user.
struct SSHSessionLaunch: Sendable {
    var executable: String
    var serverURL: String
    /// The configured theme (`theme`), asked at each session's start.
    var theme: @Sendable () -> String? = { nil }

    /// `hallpass approve`'s arguments for `user`.
    func arguments(user: String) -> [String] {
        ["approve", "--server", serverURL, "--user", user] + (theme().map { ["--theme", $0] } ?? [])
    }

    /// TERM values passed through; anything else becomes xterm-256color.
    static let terminals: Set<String> = [
        "xterm", "xterm-256color", "screen", "screen-256color", "tmux", "tmux-256color", "vt100", "vt220",
        "linux", "rxvt-unicode", "rxvt-unicode-256color", "alacritty", "foot", "kitty", "xterm-kitty",
    ]

    /// The child's whole environment: nothing of the server's own leaks into it. The consent
    /// session itself is not in it: it waits on the inherited fd named by `HALLPASS_SSH_SESSION_FD`.
    func environment(term: String, clientEnvironment: [String: String]) -> [String: String] {
        var environment = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
                           "TERM": Self.terminals.contains(term) ? term : "xterm-256color",
                           "LANG": "C.UTF-8", "LC_CTYPE": "C.UTF-8",
                           "HALLPASS_SSH_SESSION_FD": String(PTYProcess.handoverDescriptor)]
        for (name, value) in clientEnvironment where Self.isUTF8Locale(value) { environment[name] = value }
        environment["LC_CTYPE"] = "C.UTF-8"       // whatever the client asked, characters are UTF-8
        return environment
    }

    /// `LANG`/`LC_*` values taken from the client: a short locale name in UTF-8.
    static func isUTF8Locale(_ value: String) -> Bool {
        value.count <= 40 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-@".contains($0)) }
            && (value.lowercased().hasSuffix(".utf-8") || value.lowercased().hasSuffix(".utf8"))
    }
}

/// One `session` channel (RFC 4254 §6): a PTY request, optional `LANG`/`LC_*`, then `shell`
/// starts the consent screen on a real pseudo-terminal; bytes are bridged both ways, window
/// changes forwarded, and the TUI's exit status sent before the channel closes. `exec`,
/// `subsystem` (sftp), X11 and agent forwarding are refused.
final class SSHSessionHandler: ChannelDuplexHandler {
    typealias InboundIn = SSHChannelData
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = SSHChannelData

    private let launch: SSHSessionLaunch
    private let gate: any SSHConsentGate
    private let session: HandedOverSession
    private var terminal: (term: String, size: TerminalSize)?
    private var clientEnvironment: [String: String] = [:]
    private var process: PTYProcess?
    private var pipe: (any Channel)?

    init(launch: SSHSessionLaunch, gate: any SSHConsentGate, session: HandedOverSession) {
        self.launch = launch
        self.gate = gate
        self.session = session
    }

    func handlerAdded(context: ChannelHandlerContext) {
        _ = context.channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: true)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let request as SSHChannelRequestEvent.PseudoTerminalRequest:
            let ok = process == nil && terminal == nil
            if ok {
                terminal = (String(request.term.prefix(40)),
                            TerminalSize(columns: request.terminalCharacterWidth, rows: request.terminalRowHeight))
            }
            reply(context: context, ok, wanted: request.wantReply)
        case let request as SSHChannelRequestEvent.EnvironmentRequest:
            let ok = process == nil && (request.name == "LANG" || request.name.hasPrefix("LC_")) && request.name.count <= 20
                && SSHSessionLaunch.isUTF8Locale(request.value)
            if ok { clientEnvironment[request.name] = request.value }
            reply(context: context, ok, wanted: request.wantReply)
        case let request as SSHChannelRequestEvent.ShellRequest:
            start(context: context, wantReply: request.wantReply)
        case let request as SSHChannelRequestEvent.WindowChangeRequest:
            let size = TerminalSize(columns: request.terminalCharacterWidth, rows: request.terminalRowHeight)
            terminal?.size = size
            process?.resize(size)
        case let request as SSHChannelRequestEvent.ExecRequest:
            refuse(context: context, wanted: request.wantReply, "commands are not run here; connect without one")
        case let request as SSHChannelRequestEvent.SubsystemRequest:
            refuse(context: context, wanted: request.wantReply,
                   "no subsystems (\(TerminalText.sanitize(String(request.subsystem.prefix(20))))) here")
        case is ChannelEvent:
            if case .inputClosed = event as? ChannelEvent { pipe?.close(mode: .output, promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// `shell`: only after a PTY request, only once.
    private func start(context: ChannelHandlerContext, wantReply: Bool) {
        guard process == nil, let terminal else {
            return refuse(context: context, wanted: wantReply, "this server needs a terminal: connect with ssh -t")
        }
        let environment = launch.environment(term: terminal.term, clientEnvironment: clientEnvironment)
        let child: PTYProcess
        do {
            child = try PTYProcess.spawn(executable: launch.executable,
                                         arguments: launch.arguments(user: session.userName),
                                         environment: environment, size: terminal.size, handover: session.token)
        } catch {
            return refuse(context: context, wanted: wantReply, "\(error)")
        }
        process = child
        reply(context: context, true, wanted: wantReply)
        let channel = context.channel
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        NIOPipeBootstrap(group: context.eventLoop)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { pipe in
                pipe.eventLoop.makeCompletedFuture {
                    try pipe.pipeline.syncOperations.addHandler(PTYOutputForwarder(session: channel))
                }
            }
            .takingOwnershipOfDescriptor(inputOutput: child.master)
            .whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let pipe): handler.pipe = pipe
                case .failure: context.close(promise: nil)
                }
            }
        // When the TUI ends: its exit status, then the channel closes (RFC 4254 §6.10).
        let gate = gate, token = session.token
        Task {
            let status = await child.reap()
            await gate.endSession(token: token)
            bound.eventLoop.execute {
                let (_, context) = bound.value
                context.triggerUserOutboundEvent(SSHChannelRequestEvent.ExitStatus(exitStatus: status)).whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let data = Self.unwrapInboundIn(data)
        guard case .channel = data.type, case .byteBuffer(let bytes) = data.data else { return }
        pipe?.writeAndFlush(bytes, promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = Self.unwrapOutboundIn(data)
        context.write(Self.wrapOutboundOut(SSHChannelData(type: .channel, data: .byteBuffer(bytes))), promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client went away: the TUI gets a hang-up; the reaper still collects it.
        process?.hangUp()
        pipe?.close(promise: nil)
        if process == nil {
            let gate = gate, token = session.token
            Task { await gate.endSession(token: token) }
        }
        context.fireChannelInactive()
    }

    private func reply(context: ChannelHandlerContext, _ ok: Bool, wanted: Bool) {
        guard wanted else { return }
        context.triggerUserOutboundEvent(ok ? ChannelSuccessEvent() as Any : ChannelFailureEvent() as Any, promise: nil)
    }

    /// Refuses a request with a line on the client's stderr.
    private func refuse(context: ChannelHandlerContext, wanted: Bool, _ message: String) {
        var buffer = context.channel.allocator.buffer(capacity: message.utf8.count + 12)
        buffer.writeString("hallpass: \(message)\r\n")
        context.writeAndFlush(Self.wrapOutboundOut(SSHChannelData(type: .stdErr, data: .byteBuffer(buffer))), promise: nil)
        reply(context: context, false, wanted: wanted)
    }
}

/// Bytes the TUI writes to its terminal, onto the SSH channel.
final class PTYOutputForwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let session: any Channel

    init(session: any Channel) { self.session = session }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.writeAndFlush(Self.unwrapInboundIn(data), promise: nil)   // SSHSessionHandler frames it
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)      // EIO once the TUI has exited
    }
}
