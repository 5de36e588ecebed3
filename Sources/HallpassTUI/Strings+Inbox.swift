/// The words of the inbox (CIBA, ARCHITECTURE.md §4.9), in one language. Client-supplied text
/// (client names, binding messages) is passed in already sanitized.
public struct InboxStrings: Sendable {
    public var title: String
    public var help: String
    /// "2 waiting", beside the user's name in the title bar.
    public var waiting: @Sendable (Int) -> String
    /// The banner on code entry: client name, and how many more.
    public var banner: @Sendable (String, Int) -> String
    /// "Device shows: “…”" in the list; "Check that your device shows: “…”" on the consent screen.
    public var deviceShows: @Sendable (String) -> String
    public var checkDevice: @Sendable (String) -> String
    public var askedByName: String
    public var hintInbox: String
    public var hintOpen: String

    public static let english = InboxStrings(
        title: "Requests for you",
        help: "A device asked for you by name. Open one only if you started it; check that the device shows the same words.",
        waiting: { "\($0) waiting" },
        banner: { client, more in "▶ \(client) asks for you" + (more > 0 ? " (and \(more) more)" : "") + " · F4: open" },
        deviceShows: { "Device shows: “\($0)”" },
        checkDevice: { "Check that your device shows: “\($0)”" },
        askedByName: "A device asked for you by name; if you did not start it, choose Deny.",
        hintInbox: "F4: inbox",
        hintOpen: "Enter: open")

    public static let simplifiedChinese = InboxStrings(
        title: "给您的请求",
        help: "有设备指名请求您的批准。只有确定是您发起的才打开；请核对设备上显示的文字是否相同。",
        waiting: { "\($0) 个待处理" },
        banner: { client, more in "▶ \(client) 请求您的批准" + (more > 0 ? "（另有 \(more) 个）" : "") + " · F4：打开" },
        deviceShows: { "设备显示：“\($0)”" },
        checkDevice: { "请核对设备上显示：“\($0)”" },
        askedByName: "有设备指名请求您的批准；如果不是您发起的，请选择拒绝。",
        hintInbox: "F4：收件箱",
        hintOpen: "Enter：打开")
}
