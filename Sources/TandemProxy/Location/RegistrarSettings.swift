/// The registrar module's parameters (OpenSIPS 3.6 `registrar` modparams).
public struct RegistrarSettings: Sendable, Equatable {
    /// Expiry when the REGISTER gives none (`default_expires`, 3600 s).
    public var defaultExpires: Int = 3600
    /// Shortest expiry accepted; shorter asks are answered 423 with Min-Expires (`min_expires`, 60 s; 0 off).
    public var minExpires: Int = 60
    /// Longest expiry granted; longer ones are cut to it (`max_expires`, 0: no limit).
    public var maxExpires: Int = 0
    /// Most contacts per AOR (`max_contacts`, 0: no limit); more are refused with 503.
    public var maxContacts: Int = 0
    /// AORs are `user@domain` (usrloc `use_domain` 1) or just `user` (0, the default).
    public var useDomain = false
    /// Where contacts live (usrloc `working_mode_preset` / `db_mode`).
    public var mode: UsrlocMode = .noDB
    /// Seconds between two runs of the usrloc timer (write-back flush, purge of expired rows;
    /// usrloc `timer_interval`, 60 s).
    public var timerInterval: Int = 60
    /// Name of the Contact parameter carrying a contact's `received` address in the 200 of a REGISTER
    /// (registrar `received_param`, "received").
    public var receivedParam = "received"
    /// The location tables the script saves to or looks up in (first argument of `save`/`lookup`): the
    /// load at start and the usrloc timer work on each ("location" when none is named).
    public var tables: [String] = ["location"]

    public init(defaultExpires: Int = 3600, minExpires: Int = 60, maxExpires: Int = 0, maxContacts: Int = 0) {
        self.defaultExpires = defaultExpires
        self.minExpires = minExpires
        self.maxExpires = maxExpires
        self.maxContacts = maxContacts
    }
}
