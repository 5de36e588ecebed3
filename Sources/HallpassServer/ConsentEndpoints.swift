import Foundation
import HallpassCore
import Hummingbird

/// The consent API (ARCHITECTURE.md §4.4): the one door through which every terminal front — `hallpass
/// approve`, the SSH front, a kiosk — logs in, looks up a code and approves or denies.
/// JSON in, JSON out; the session travels as a bearer token.
struct ConsentEndpoints {
    let desk: ConsentDesk

    struct LoginBody: Decodable { var username: String; var password: String }
    struct CodeBody: Decodable { var user_code: String }
    struct DecisionBody: Decodable { var user_code: String; var scope: String? }

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.post("consent/login") { request, context in
            var request = request
            let body = try await request.json(LoginBody.self, context: context)
            let (token, session, user) = try await self.desk.login(name: body.username, password: body.password, source: context.clientIP)
            return JSONResponse.make([
                "session": .string(token), "user": .string(user.name),
                "expires_in": .int(Int(session.expiresAt.timeIntervalSince(self.desk.clock.now))),
            ] as [String: JSON])
        }
        group.post("consent/logout") { request, _ in
            if let bearer = request.bearerToken {
                try await self.desk.sessions.deleteSession(tokenHash: SecretToken.hash(bearer))
            }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        group.get("consent/session") { request, _ in
            let session = try await self.desk.session(bearer: request.bearerToken)
            return JSONResponse.make([
                "user": .string(session.user.name),
                "expires_in": .int(Int(session.record.expiresAt.timeIntervalSince(self.desk.clock.now))),
            ] as [String: JSON])
        }
        group.post("consent/lookup") { request, context in
            var request = request
            let session = try await self.desk.session(bearer: request.bearerToken)
            let body = try await request.json(CodeBody.self, context: context)
            let grant = try await self.desk.pendingGrant(code: body.user_code, session: session)
            return try JSONResponse.make(try await self.desk.view(of: grant))
        }
        group.post("consent/approve") { request, context in
            try await self.decide(request, context: context, approve: true)
        }
        group.post("consent/deny") { request, context in
            try await self.decide(request, context: context, approve: false)
        }
    }

    func decide(_ request: Request, context: HallpassRequestContext, approve: Bool) async throws -> Response {
        var request = request
        let session = try await desk.session(bearer: request.bearerToken)
        let body = try await request.json(DecisionBody.self, context: context)
        let scopes = try body.scope.map { (text: String) throws(OAuthError) in try ScopeSet(parsing: text) }
        let grant = try await desk.decide(code: body.user_code, approve: approve, scopes: scopes, session: session)
        var result: [String: JSON] = ["status": .string(grant.status.rawValue), "user_code": .string(grant.userCode.display),
                                      "client_id": .string(grant.clientID)]
        if let granted = grant.grantedScopes { result["scope"] = .string(granted.description) }
        return JSONResponse.make(result)
    }
}
