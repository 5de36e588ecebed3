/// A consent session opened for someone who authenticated elsewhere (an SSH connection) and
/// handed to the consent screen that front runs: the session token (on the child's fd 3 only,
/// ARCHITECTURE.md §1) and whose it is.
public struct HandedOverSession: Sendable, Equatable {
    public let token: String
    public let userName: String

    public init(token: String, userName: String) { (self.token, self.userName) = (token, userName) }
}
