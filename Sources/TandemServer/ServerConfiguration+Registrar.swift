import TandemProxy
import TandemScript

extension ServerConfiguration {
    /// usrloc column-name modparams and the OpenSIPS 3.6 column each must name (Tandem reads and writes
    /// the 3.6 `location` layout; a renamed column is refused rather than silently ignored).
    static let usrlocColumns: [String: String] = [
        "contactid_column": "contact_id", "user_column": "username", "domain_column": "domain",
        "contact_column": "contact", "expires_column": "expires", "q_column": "q", "callid_column": "callid",
        "cseq_column": "cseq", "flags_column": "flags", "cflags_column": "cflags", "user_agent_column": "user_agent",
        "received_column": "received", "path_column": "path", "socket_column": "socket", "methods_column": "methods",
        "sip_instance_column": "sip_instance", "kv_store_column": "kv_store", "attr_column": "attr",
        "last_mod_column": "last_modified",
    ]

    /// The registrar's and usrloc's modparams: `default_expires`, `min_expires`, `max_expires`,
    /// `max_contacts` (registrar), `use_domain`, `working_mode_preset` or `db_mode`, `timer_interval`,
    /// `db_url` (usrloc). The cluster presets are refused: Tandem scales out by instances sharing one
    /// `location` table, with no clustering of its own.
    static func registrarSettings(for config: ScriptConfig) -> (RegistrarSettings, [Diagnostic]) {
        var settings = RegistrarSettings()
        var diagnostics: [Diagnostic] = []
        var modeDecl: ModParamDecl?
        for decl in config.modparams where decl.module == "registrar" || decl.module == "usrloc" {
            switch (decl.module, decl.param) {
            case ("registrar", "default_expires"), ("registrar", "min_expires"), ("registrar", "max_expires"),
                 ("registrar", "max_contacts"), ("usrloc", "use_domain"), ("usrloc", "timer_interval"):
                guard let value = decl.value.intValue, value >= 0 else {
                    diagnostics.append(Diagnostic(decl.location, "\(decl.module) \(decl.param) must be a non-negative number"))
                    continue
                }
                switch decl.param {
                case "default_expires": settings.defaultExpires = value
                case "min_expires": settings.minExpires = value
                case "max_expires": settings.maxExpires = value
                case "max_contacts": settings.maxContacts = value
                case "timer_interval": settings.timerInterval = max(1, value)
                default: settings.useDomain = value != 0
                }
            case ("registrar", "received_param"):
                let name = decl.value.plainText.trimmingSpaces()
                if !name.isEmpty { settings.receivedParam = name }
            case ("usrloc", "working_mode_preset"):
                let name = decl.value.plainText.trimmingSpaces()
                if let mode = UsrlocMode(rawValue: name) {
                    settings.mode = mode
                    modeDecl = decl
                } else {
                    diagnostics.append(Diagnostic(decl.location,
                        "usrloc working_mode_preset '\(name)' is not supported: it relies on OpenSIPS clustering, which "
                        + "Tandem does not have. Scale out with several instances sharing one location table instead "
                        + "(sql-only, or single-instance-sql-write-through); single-instance-no-db and "
                        + "single-instance-sql-write-back are the other presets"))
                }
            case ("usrloc", "db_mode"):
                if let value = decl.value.intValue, let mode = UsrlocMode(dbMode: value) {
                    settings.mode = mode
                    modeDecl = decl
                } else {
                    diagnostics.append(Diagnostic(decl.location, "usrloc db_mode must be 0, 1, 2 or 3"))
                }
            case ("usrloc", "cluster_mode"):
                if decl.value.plainText.trimmingSpaces() != "none" {
                    diagnostics.append(Diagnostic(decl.location,
                        "usrloc cluster_mode '\(decl.value.plainText)' is not supported: Tandem has no clustering; "
                        + "share one location table between instances (sql-only or write-through) instead"))
                }
            case ("usrloc", let param) where usrlocColumns[param] != nil:
                if decl.value.plainText.trimmingSpaces() != usrlocColumns[param] {
                    diagnostics.append(Diagnostic(decl.location,
                        "usrloc \(param): Tandem uses the OpenSIPS 3.6 location columns; '\(usrlocColumns[param]!)' cannot be renamed"))
                }
            default:
                break
            }
        }
        let hasURL = config.modparams.contains { $0.module == "usrloc" && $0.param == "db_url" }
        if settings.mode.usesDatabase && !hasURL, let modeDecl {
            diagnostics.append(Diagnostic(modeDecl.location,
                "usrloc \(settings.mode.rawValue) needs modparam(\"usrloc\", \"db_url\", \"postgres://…\")"))
        }
        return (settings, diagnostics)
    }
}
