/// A set of OAuth scopes (RFC 6749 §3.3): space-delimited, case-sensitive tokens of
/// `%x21 / %x23-5B / %x5D-7E`. Order is kept as first given, duplicates are dropped.
public struct ScopeSet: Hashable, Sendable, Sequence, CustomStringConvertible {
    public private(set) var names: [String]

    public init() { names = [] }

    /// Builds a set from known-good names (server-side configuration).
    public init(_ names: some Sequence<String>) {
        self.names = []
        for name in names where !self.names.contains(name) { self.names.append(name) }
    }

    /// Parses a `scope` parameter. An empty or all-space value is the empty set.
    public init(parsing text: String) throws(OAuthError) {
        var result: [String] = []
        for token in text.split(separator: " ", omittingEmptySubsequences: true) {
            guard token.unicodeScalars.allSatisfy(ScopeSet.isScopeCharacter) else {
                throw OAuthError(.invalidScope, "scope contains a character RFC 6749 §3.3 does not allow")
            }
            let name = String(token)
            if !result.contains(name) { result.append(name) }
        }
        self.names = result
    }

    /// `NQCHAR` of RFC 6749 Appendix A.4.
    public static func isScopeCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v == 0x21 || (0x23...0x5B).contains(v) || (0x5D...0x7E).contains(v)
    }

    public var isEmpty: Bool { names.isEmpty }
    public var count: Int { names.count }
    public func contains(_ name: String) -> Bool { names.contains(name) }
    public func isSubset(of other: ScopeSet) -> Bool { names.allSatisfy(other.contains) }
    public func subtracting(_ other: ScopeSet) -> ScopeSet { ScopeSet(names.filter { !other.contains($0) }) }
    public func makeIterator() -> IndexingIterator<[String]> { names.makeIterator() }

    /// The wire form: names joined by single spaces.
    public var description: String { names.joined(separator: " ") }

    public static func == (lhs: ScopeSet, rhs: ScopeSet) -> Bool { Set(lhs.names) == Set(rhs.names) }
    public func hash(into hasher: inout Hasher) { hasher.combine(Set(names)) }
}

extension ScopeSet {
    /// What a client may be given (RFC 6749 §3.3): an omitted scope means the client's whole
    /// ceiling; asking for anything beyond the ceiling is `invalid_scope`.
    public static func resolve(requested: ScopeSet?, ceiling: ScopeSet) throws(OAuthError) -> ScopeSet {
        guard let requested, !requested.isEmpty else { return ceiling }
        let extra = requested.subtracting(ceiling)
        guard extra.isEmpty else {
            throw OAuthError(.invalidScope, "scope not allowed for this client: \(extra)")
        }
        return requested
    }
}
