import CHallpassRuntime

/// What `hallpass --version` says (issue 21): the release and the commit it was built from.
/// The Debian package takes its version from this line (scripts/package-deb.sh).
enum BuildInfo {
    /// The release; raise it with every tagged release and in the package's changelog.
    static let version = "0.21.0"

    /// The git commit (`HALLPASS_COMMIT` at build time: scripts/build-release.sh sets it), or
    /// "unknown" for a build that did not say.
    static var commit: String { String(cString: hp_build_commit()) }

    /// `hallpass 0.21.0 (commit 1a2b3c4d5e6f)`.
    static var versionLine: String { "hallpass \(version) (commit \(commit))" }
}
