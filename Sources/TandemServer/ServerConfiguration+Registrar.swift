import TandemProxy
import TandemScript

extension ServerConfiguration {
    /// The registrar's and usrloc's modparams: `default_expires`, `min_expires`, `max_expires`,
    /// `max_contacts` (registrar), `use_domain` (usrloc). `working_mode_preset`/`db_mode` other than
    /// `single-instance-no-db`/0 are refused: Tandem keeps the location table in memory only.
    static func registrarSettings(for config: ScriptConfig) -> (RegistrarSettings, [Diagnostic]) {
        var settings = RegistrarSettings()
        var diagnostics: [Diagnostic] = []
        for decl in config.modparams where decl.module == "registrar" || decl.module == "usrloc" {
            switch (decl.module, decl.param) {
            case ("registrar", "default_expires"), ("registrar", "min_expires"), ("registrar", "max_expires"),
                 ("registrar", "max_contacts"), ("usrloc", "use_domain"):
                guard let value = decl.value.intValue, value >= 0 else {
                    diagnostics.append(Diagnostic(decl.location, "\(decl.module) \(decl.param) must be a non-negative number"))
                    continue
                }
                switch decl.param {
                case "default_expires": settings.defaultExpires = value
                case "min_expires": settings.minExpires = value
                case "max_expires": settings.maxExpires = value
                case "max_contacts": settings.maxContacts = value
                default: settings.useDomain = value != 0
                }
            case ("usrloc", "working_mode_preset"):
                if decl.value.plainText != "single-instance-no-db" {
                    diagnostics.append(Diagnostic(decl.location,
                        "usrloc working_mode_preset '\(decl.value.plainText)': Tandem keeps locations in memory only (single-instance-no-db) for now"))
                }
            case ("usrloc", "db_mode"):
                if decl.value.intValue != 0 {
                    diagnostics.append(Diagnostic(decl.location,
                        "usrloc db_mode \(decl.value.plainText): Tandem keeps locations in memory only (db_mode 0) for now"))
                }
            default:
                break
            }
        }
        return (settings, diagnostics)
    }
}
