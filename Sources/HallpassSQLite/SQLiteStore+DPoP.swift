import Foundation
import GRDB
import HallpassStore

extension SQLiteStore: DPoPReplayStore {
    /// One statement: the key is inserted, or an entry whose time has passed is renewed; a live
    /// entry is left alone and nothing changes, which is how a replay shows.
    public func recordProof(key: String, until: Date, now: Date) async throws -> Bool {
        guard isStorable(key) else { return false }
        return try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO dpop_proofs (key, expires_at) VALUES (?, ?)
                ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_proofs.expires_at <= ?
                """, arguments: [key, until.unix, now.unix])
            return db.changesCount == 1
        }
    }
}
