import Foundation
import HallpassStore
import PostgresNIO

extension PostgresStore: DPoPReplayStore {
    /// One statement, so two replicas that see one proof at once cannot both accept it: the key's
    /// row is inserted, or renewed when its time has passed; a live row returns nothing.
    public func recordProof(key: String, until: Date, now: Date) async throws -> Bool {
        guard isStorable(key) else { return false }
        return try await count("""
            INSERT INTO dpop_proofs (key, expires_at) VALUES (\(key), \(until.unix))
            ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE dpop_proofs.expires_at <= \(now.unix)
            RETURNING 1
            """) == 1
    }
}
