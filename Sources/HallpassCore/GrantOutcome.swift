import Foundation

/// How a device grant ended, as push tells a waiting device or an approver's screen (ARCHITECTURE.md §4.3).
/// A hint: the token endpoint stays the authority on what the device gets.
public enum GrantOutcome: String, Sendable, Equatable {
    case approved, denied, expired
}

extension DeviceGrant {
    /// The outcome at `now`; nil while the grant is still pending. An approved grant that was
    /// never redeemed before its code expired counts as expired: it can no longer be redeemed.
    public func outcome(at now: Date) -> GrantOutcome? {
        switch effectiveStatus(at: now) {
        case .pending: nil
        case .approved, .redeemed: .approved
        case .denied: .denied
        case .expired: .expired
        }
    }
}
