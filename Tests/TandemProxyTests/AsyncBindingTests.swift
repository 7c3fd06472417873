import Testing
import TandemScript
@testable import TandemServer

/// The binding table of async-capable functions matches the script language's signatures.
@Suite struct AsyncBindingTests {
    @Test("Every host-run function has exactly one binding, and every binding a host-run signature")
    func tableMatchesSignatures() {
        let hostRun = Set(FunctionRegistry.standard.specs.filter(\.isHostRun).map(\.name))
        #expect(Set(AsyncBindings.functions.keys) == hostRun)
        let names = AsyncBindings.drivers.flatMap { $0.functions.map(\.name) }
        #expect(names.count == Set(names).count, "a function bound twice: \(names)")
    }

    @Test("Driver names of async_mode/offload_limit come from the bindings")
    func knownDrivers() {
        for driver in ["sleep", "usleep", "exec", "postgres", "pg_connect", "mysql", "http", "ldap", "ldap_connect", "mongodb"] {
            #expect(AsyncBindings.knownDrivers.contains(driver), "\(driver)")
        }
    }
}
