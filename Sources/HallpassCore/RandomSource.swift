import Foundation

/// Where Hallpass gets randomness for codes and tokens. Production uses the operating
/// system's CSPRNG; tests inject a seeded source to make codes predictable.
public protocol RandomSource: Sendable {
    func bytes(_ count: Int) -> [UInt8]
}

extension RandomSource {
    /// A uniformly distributed integer in `0..<upperBound` (rejection sampling, no modulo bias).
    public func uniform(below upperBound: Int) -> Int {
        uniform(below: upperBound, count: 1)[0]
    }

    /// `count` uniformly distributed integers in `0..<upperBound` (rejection sampling, no
    /// modulo bias), drawing random bytes in batches.
    public func uniform(below upperBound: Int, count: Int) -> [Int] {
        precondition(upperBound > 0 && upperBound <= 256)
        let limit = 256 - (256 % upperBound)
        var result: [Int] = []
        result.reserveCapacity(count)
        while result.count < count {
            for byte in bytes(count * 2) where Int(byte) < limit && result.count < count {
                result.append(Int(byte) % upperBound)
            }
        }
        return result
    }
}

/// The operating system's cryptographically secure generator (`getrandom(2)` on Linux).
public struct SystemRandomSource: RandomSource {
    public init() {}
    public func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: generator.next()) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }
}

/// A deterministic generator (SplitMix64) for tests. Never use it for real codes.
public final class SeededRandomSource: RandomSource, @unchecked Sendable {
    private let lock = NSLock()
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public func bytes(_ count: Int) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { out.append(contentsOf: $0.prefix(count - out.count)) }
        }
        return out
    }
}
