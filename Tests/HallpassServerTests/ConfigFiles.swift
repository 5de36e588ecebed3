import Foundation

/// A fresh temporary configuration file holding `contents`; its path.
func temporaryConfigFile(_ contents: Data) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-\(UUID().uuidString).toml").path
    try contents.write(to: URL(fileURLWithPath: path))
    return path
}

/// A fresh temporary configuration file holding `text` as UTF-8; its path.
func temporaryConfigFile(_ text: String) throws -> String {
    try temporaryConfigFile(Data(text.utf8))
}
