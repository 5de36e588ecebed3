import HallpassCore
import PostgresNIO

/// The one query on every poll, prepared once per connection: the server then skips parsing
/// and planning, and postgres-nio sends Bind/Execute instead of Parse/Describe/Bind/Execute.
struct GrantByDeviceCode: PostgresPreparedStatement {
    static let name = "hallpass_grant_by_device_code"
    static var sql: String { "SELECT \(PostgresStore.grantColumns) FROM device_grants WHERE device_code_hash = $1" }
    typealias Row = DeviceGrant

    var deviceCodeHash: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        try bindings.append(deviceCodeHash)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> DeviceGrant {
        try PostgresStore.grant(from: row)
    }
}
