/// Checks of global parameters, loadmodule and modparam; fills `ScriptConfig`.
extension Analyzer {
    mutating func checkConfig() {
        for item in ast.items {
            switch item {
            case .global(let g): applyGlobal(g)
            case .loadModule(let name, let l):
                let m = ModuleCatalog.moduleName(fromFile: name)
                if ModuleCatalog.modules[m] == nil {
                    error(l, "module '\(m)' is not available in Tandem")
                    missing.append(MissingFeature(kind: .module, name: m, location: l))
                    unavailableModules.insert(m)
                } else if !config.modules.contains(m) {
                    config.modules.append(m)
                    config.moduleLocations[m] = l
                }
            default: break
            }
        }
        for item in ast.items {
            guard case .modparam(let mp) = item else { continue }
            if unavailableModules.contains(mp.module) { continue }
            guard let params = ModuleCatalog.modules[mp.module] else {
                error(mp.location, "module '\(mp.module)' is not available in Tandem")
                missing.append(MissingFeature(kind: .module, name: mp.module, location: mp.location))
                unavailableModules.insert(mp.module)
                continue
            }
            // "tandem" is the core itself (async engine settings): always loaded.
            if !config.modules.contains(mp.module) && mp.module != "tandem" {
                error(mp.location, "modparam for module '\(mp.module)' which is not loaded")
            } else if !params.contains(mp.param) {
                // tm's 1.x names, still in OpenSIPS's shipped example scripts.
                let renamed = ["fr_timer": "fr_timeout", "fr_inv_timer": "fr_inv_timeout"]
                let hint = mp.module == "tm" ? renamed[mp.param].map { " (now '\($0)')" } : nil
                error(mp.location, "unknown parameter '\(mp.param)' for module '\(mp.module)'"
                      + (hint ?? Suggestions.hint(for: mp.param, in: params)))
            } else {
                config.modparams.append(mp)
            }
        }
    }

    mutating func applyGlobal(_ g: GlobalParam) {
        guard GlobalParameters.known.contains(g.name) else {
            if g.name == "debug" {
                // OpenSIPS's old example scripts still start with `debug=3`.
                error(g.location, "global parameter 'debug' was removed in OpenSIPS 2.3: use 'log_level'")
                return
            }
            error(g.location, "unknown global parameter '\(g.name)'")
            return
        }
        config.globals.append(g)
        func int(_ range: ClosedRange<Int>) -> Int? {
            guard let v = g.value.intValue, range.contains(v) else {
                error(g.location, "global parameter '\(g.name)' needs an integer in \(range.lowerBound)...\(range.upperBound)")
                return nil
            }
            return v
        }
        func bool() -> Bool? {
            guard let v = g.value.intValue else {
                error(g.location, "global parameter '\(g.name)' needs a boolean (yes/no, on/off, 1/0)")
                return nil
            }
            return v != 0
        }
        switch g.name {
        case "log_level": if let v = int(-3...4) { config.logLevel = v }
        case "xlog_level": if let v = int(-3...4) { config.xlogLevel = v }
        case "xlog_print_level", "xlog_default_level": if let v = int(-3...4) { config.xlogPrintLevel = v }
        case "udp_workers", "children": if let v = int(1...1024) { config.udpWorkers = v }
        case "tcp_workers", "tcp_children": if let v = int(0...1024) { config.tcpWorkers = v }
        case "max_while_loops": if let v = int(1...10_000_000) { config.maxWhileLoops = v }
        case "async_timeout": if let v = int(0...86_400_000) { config.asyncTimeout = v }
        case "debug_mode": if let v = bool() { config.debugMode = v }
        case "auto_aliases": if let v = bool() { config.autoAliases = v }
        case "dns": if let v = bool() { config.dns = v }
        case "rev_dns": if let v = bool() { config.reverseDNS = v }
        case "mhomed": if let v = bool() { config.mhomed = v }
        case "disable_tcp": if let v = bool() { config.disableTCP = v }
        case "mpath": config.mpath = g.value.description
        case "alias": config.aliases.append(g.value.description)
        case "socket", "listen":
            if let s = ScriptSocket.parse(g.value.description) { config.sockets.append(s) }
            else { error(g.location, "invalid socket '\(g.value.description)' (expected proto:host:port)") }
        default: break
        }
    }
}
