import Foundation
import HallpassCore
import Hummingbird

/// The consent API (ARCHITECTURE.md §4.4): the one door through which every terminal front — `hallpass
/// approve`, the SSH front, a kiosk — logs in, looks up a code and approves or denies.
/// JSON in, JSON out; the session travels as a bearer token.
struct ConsentEndpoints {
    let desk: ConsentDesk

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.post("consent/login") { request, context in
            var request = request
            let body = try await request.json(ConsentAPI.LoginRequest.self, context: context)
            let (token, session, user) = try await self.desk.login(name: body.username, password: body.password, source: context.clientIP,
                                                                   front: ConsentFront.claimed(body.front))
            return try JSONResponse.make(ConsentAPI.SessionAnswer(
                session: token, user: user.name, expiresIn: Int(session.expiresAt.timeIntervalSince(self.desk.clock.now)),
                otpRequired: session.secondFactorPending, amr: session.methods))
        }
        // The second factor (ARCHITECTURE.md §4.8): the code that finishes a login (or freshens
        // the session's), and enrolment by the logged-in user.
        group.post("consent/otp") { request, context in
            var request = request
            let session = try await self.desk.session(bearer: request.bearerToken, pendingAllowed: true)
            let body = try await request.json(ConsentAPI.OTPRequest.self, context: context)
            let verified = try await self.desk.verifyCode(body.code, session: session)
            return try JSONResponse.make(self.answer(verified))
        }
        group.post("consent/totp/enroll") { request, _ in
            let session = try await self.desk.session(bearer: request.bearerToken)
            return try JSONResponse.make(try await self.desk.enroll(session: session))
        }
        group.post("consent/totp/confirm") { request, context in
            var request = request
            let session = try await self.desk.session(bearer: request.bearerToken)
            let body = try await request.json(ConsentAPI.OTPRequest.self, context: context)
            return try JSONResponse.make(try await self.desk.confirmEnrolment(code: body.code, session: session))
        }
        group.post("consent/logout") { request, _ in
            if let bearer = request.bearerToken {
                try await self.desk.sessions.deleteSession(tokenHash: SecretToken.hash(bearer))
            }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        group.get("consent/session") { request, _ in
            let session = try await self.desk.session(bearer: request.bearerToken, pendingAllowed: true)
            return try JSONResponse.make(self.answer(session))
        }
        group.post("consent/lookup") { request, context in
            var request = request
            let session = try await self.desk.session(bearer: request.bearerToken)
            let body = try await request.json(ConsentAPI.CodeRequest.self, context: context)
            let grant = try await self.desk.pendingGrant(code: body.userCode, session: session)
            return try JSONResponse.make(try await self.desk.view(of: grant, for: session))
        }
        group.post("consent/approve") { request, context in
            try await self.decide(request, context: context, approve: true)
        }
        group.post("consent/deny") { request, context in
            try await self.decide(request, context: context, approve: false)
        }
        group.get("consent/inbox") { request, _ in
            let session = try await self.desk.session(bearer: request.bearerToken)
            return try JSONResponse.make(try await self.desk.inbox(for: session))
        }
        group.get("consent/devices") { request, _ in
            let session = try await self.desk.session(bearer: request.bearerToken)
            return try JSONResponse.make(try await self.desk.devices(for: session))
        }
        group.post("consent/devices/revoke") { request, context in
            var request = request
            let session = try await self.desk.session(bearer: request.bearerToken)
            let body = try await request.json(ConsentAPI.RevokeRequest.self, context: context)
            try await self.desk.revokeDevice(id: body.id, session: session)
            return try JSONResponse.make(["revoked": body.id])
        }
    }

    /// A session as `GET /consent/session` describes it (without the token).
    func answer(_ session: ConsentDesk.Session) -> ConsentAPI.SessionAnswer {
        ConsentAPI.SessionAnswer(user: session.user.name, expiresIn: Int(session.record.expiresAt.timeIntervalSince(desk.clock.now)),
                                 otpRequired: session.record.secondFactorPending, amr: session.record.methods)
    }

    func decide(_ request: Request, context: HallpassRequestContext, approve: Bool) async throws -> Response {
        var request = request
        let session = try await desk.session(bearer: request.bearerToken)
        let body = try await request.json(ConsentAPI.CodeRequest.self, context: context)
        let scopes = try body.scope.map { (text: String) throws(OAuthError) in try ScopeSet(parsing: text) }
        let grant = try await desk.decide(code: body.userCode, approve: approve, scopes: scopes, otp: body.otp, session: session)
        return try JSONResponse.make(ConsentAPI.DecisionAnswer(
            status: approve ? .approved : .denied, userCode: grant.userCode.display, clientID: grant.clientID,
            scope: grant.grantedScopes?.description))
    }
}
