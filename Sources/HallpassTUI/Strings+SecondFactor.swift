/// The words of the second-factor screens (ARCHITECTURE.md §4.8), in one language.
public struct SecondFactorStrings: Sendable {
    public var loginTitle: String
    public var loginIntro: String
    public var stepUpTitle: String
    public var stepUpIntro: String
    public var codeLabel: String
    public var checking: String
    public var enrolTitle: String
    public var enrolIntro: String
    public var enrolNoRoom: String
    public var secretLabel: String
    public var enrolCodeLabel: String
    public var enrolling: String
    public var recoveryTitle: String
    public var recoveryIntro: String
    public var recoveryDone: String
    public var hintAuthenticator: String
    public var hintCancel: String

    public static let english = SecondFactorStrings(
        loginTitle: "Enter the code from your authenticator",
        loginIntro: "Open your authenticator app and type the 6-digit code it shows for Hallpass, or one of your recovery codes.",
        stepUpTitle: "This approval needs a fresh code",
        stepUpIntro: "Type the 6-digit code your authenticator app shows now (or a recovery code). Escape goes back without deciding.",
        codeLabel: "Code",
        checking: "Checking the code…",
        enrolTitle: "Add an authenticator",
        enrolIntro: "Scan the QR code with an authenticator app (or type the secret), then type the 6-digit code it shows.",
        enrolNoRoom: "Enlarge the window to see the QR code, or type the secret.",
        secretLabel: "Secret",
        enrolCodeLabel: "Code",
        enrolling: "Setting up the authenticator…",
        recoveryTitle: "Authenticator added: your recovery codes",
        recoveryIntro: "Each works once if you lose your authenticator. Write them down now: they are never shown again.",
        recoveryDone: "Enter: done",
        hintAuthenticator: "F3: 2nd factor",
        hintCancel: "Esc: back")

    public static let simplifiedChinese = SecondFactorStrings(
        loginTitle: "输入身份验证器中的验证码",
        loginIntro: "打开身份验证器应用，输入 Hallpass 的 6 位验证码，或一个恢复码。",
        stepUpTitle: "此批准需要一个新的验证码",
        stepUpIntro: "输入身份验证器当前显示的 6 位验证码（或恢复码）。按 Esc 返回，不做决定。",
        codeLabel: "验证码",
        checking: "正在检查验证码…",
        enrolTitle: "添加身份验证器",
        enrolIntro: "用身份验证器应用扫描二维码（或输入密钥），然后输入它显示的 6 位验证码。",
        enrolNoRoom: "放大窗口以显示二维码，或输入密钥。",
        secretLabel: "密钥",
        enrolCodeLabel: "验证码",
        enrolling: "正在设置身份验证器…",
        recoveryTitle: "已添加身份验证器：您的恢复码",
        recoveryIntro: "丢失身份验证器时，每个恢复码可用一次。请现在记下：它们不会再次显示。",
        recoveryDone: "Enter：完成",
        hintAuthenticator: "F3：双重验证",
        hintCancel: "Esc：返回")
}
