import Foundation
import GRDB
import HallpassStore

extension SQLiteStore: SSHKeyStore {
    public func addSSHKey(_ key: SSHKeyRecord) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO ssh_keys (blob, user_id, type, fingerprint, comment, added_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [key.blob, key.userID, key.type, key.fingerprint, key.comment, key.addedAt.unix])
            return db.changesCount == 1
        }
    }

    public func sshKeys(userID: Int64) async throws -> [SSHKeyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ssh_keys WHERE user_id = ? ORDER BY added_at", arguments: [userID])
                .map(SQLiteStore.sshKey(from:))
        }
    }

    public func removeSSHKey(userID: Int64, fingerprint: String) async throws -> Bool {
        guard isStorable(fingerprint) else { return false }
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM ssh_keys WHERE user_id = ? AND fingerprint = ?", arguments: [userID, fingerprint])
            return db.changesCount > 0
        }
    }

    public func sshKey(blob: String) async throws -> SSHKeyRecord? {
        guard isStorable(blob) else { return nil }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM ssh_keys WHERE blob = ?", arguments: [blob]).map(SQLiteStore.sshKey(from:))
        }
    }

    static func sshKey(from row: Row) -> SSHKeyRecord {
        SSHKeyRecord(userID: row["user_id"], type: row["type"], blob: row["blob"], fingerprint: row["fingerprint"],
                     comment: row["comment"], addedAt: row.date("added_at") ?? .distantPast)
    }
}
