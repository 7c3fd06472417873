/// Where the location service keeps its contacts (OpenSIPS 3.6 usrloc `working_mode_preset`, or the
/// older `db_mode`). Scale-out is several instances sharing one `location` table (``sqlOnly``, or
/// ``writeThrough`` with read-through on a lookup miss); Tandem has no clustering of its own.
public enum UsrlocMode: String, Sendable, Equatable, CaseIterable {
    /// `single-instance-no-db` / `db_mode 0`: memory only.
    case noDB = "single-instance-no-db"
    /// `single-instance-sql-write-through` / `db_mode 1`: memory, and every change written to the table
    /// before `save()` replies.
    case writeThrough = "single-instance-sql-write-through"
    /// `single-instance-sql-write-back` / `db_mode 2`: memory first; changed AORs written to the table
    /// every `timer_interval` seconds.
    case writeBack = "single-instance-sql-write-back"
    /// `sql-only` / `db_mode 3`: the table is the location service; every lookup reads it.
    case sqlOnly = "sql-only"

    /// The mode of an older `db_mode` value, nil when out of range.
    public init?(dbMode: Int) {
        switch dbMode {
        case 0: self = .noDB
        case 1: self = .writeThrough
        case 2: self = .writeBack
        case 3: self = .sqlOnly
        default: return nil
        }
    }

    /// True when the mode keeps contacts in the database.
    public var usesDatabase: Bool { self != .noDB }

    /// True when the table is loaded into memory at start.
    public var loadsAtStart: Bool { self == .writeThrough || self == .writeBack }
}
