#!/usr/bin/env bash
# Response bodies: the hand-written JSON writer the server used until the end of issue 14
# (JSON.swift at REV, a [String: JSON] dictionary written with sorted keys) against JSONEncoder on the Codable
# body types that replaced it, for the two hot answers: a pending poll's error and a token
# response. Release build (swiftc -O), one process, ROUNDS rounds; prints µs per body.
#   Benchmarks/json-encoding.sh [ROUNDS] [REV]     (defaults: 3, dd7f5b4)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
rev=${2:-dd7f5b4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "import Foundation"
  git show "$rev:Sources/HallpassServer/JSON.swift" | grep -v '^import'
  sed -n '/^public struct ErrorBody/,/^}/p' Sources/HallpassCore/ConsentContract+Errors.swift | sed 's/public //g'
  sed -n '/^struct TokenResponse/,/^}/p' Sources/HallpassServer/TokenResponse.swift
  cat <<'SWIFT'
let pending = ErrorBody(error: "authorization_pending", errorDescription: "the user has not decided yet")
let pendingJSON: [String: JSON] = ["error": "authorization_pending", "error_description": "the user has not decided yet"]
let token = TokenResponse(accessToken: String(repeating: "a", count: 700), expiresIn: 3600, scope: "openid profile",
                          refreshToken: "rt_" + String(repeating: "b", count: 43), idToken: String(repeating: "c", count: 600))
let tokenJSON: [String: JSON] = ["access_token": .string(token.accessToken), "token_type": "Bearer", "expires_in": 3600,
                                 "scope": "openid profile", "refresh_token": .string(token.refreshToken!), "id_token": .string(token.idToken!)]
func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}
func handWritten(_ object: [String: JSON]) -> Int {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(256)
    JSON.object(object).write(to: &bytes)
    return bytes.count
}
func time(_ name: String, _ n: Int, _ body: () throws -> Int) rethrows {
    var sink = 0
    let start = ContinuousClock.now
    for _ in 0..<n { sink &+= try body() }
    let elapsed = ContinuousClock.now - start
    let micros = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(n)
    print(name.padding(toLength: 34, withPad: " ", startingAt: 0), String(format: "%6.2f µs", micros), "(\(sink / n) bytes)")
}
for round in 1...Int(CommandLine.arguments[1])! {
    print("round \(round)")
    time("pending poll, hand-written", 200_000) { handWritten(pendingJSON) }
    try time("pending poll, JSONEncoder", 200_000) { try encoder().encode(pending).count }
    time("token response, hand-written", 100_000) { handWritten(tokenJSON) }
    try time("token response, JSONEncoder", 100_000) { try encoder().encode(token).count }
}
SWIFT
} > "$work/main.swift"
swiftc -O "$work/main.swift" -o "$work/json-encoding"
"$work/json-encoding" "$rounds"
