/// CIBA Core §7.1 `binding_message`: a short text the device shows and the approver's screen
/// shows beside the request, so the person can tell that the request on their screen is the one
/// their device made. It reaches terminals, so anything a screen could not show as typed is
/// refused rather than sanitized (§13 `invalid_binding_message`).
public enum BindingMessage {
    /// In characters (grapheme clusters), as a person counts them.
    public static let maximumLength = 64

    /// The message, or why it is refused.
    public static func check(_ text: String) throws(OAuthError) -> String {
        guard !text.isEmpty else { throw OAuthError(.invalidBindingMessage, "binding_message is empty") }
        guard text.count <= maximumLength else {
            throw OAuthError(.invalidBindingMessage, "binding_message has \(text.count) characters; at most \(maximumLength)")
        }
        guard TerminalText.isClean(text) else {
            throw OAuthError(.invalidBindingMessage, "binding_message holds control, invisible or bidirectional characters")
        }
        return text
    }
}
