import Testing
import TandemScript
@testable import TandemServer

/// The binding table of async-capable functions matches the script language's signatures.
@Suite struct AsyncBindingTests {
    @Test("Every host-run or async-capable function has exactly one binding, and every binding such a signature")
    func tableMatchesSignatures() {
        // The registrar's save/lookup/is_registered/registered run in the script in memory-only usrloc
        // and on the host in its database modes (and under async()): async-capable, not host-run.
        let bound = Set(FunctionRegistry.standard.specs.filter { $0.isHostRun || $0.hasAsyncForm }.map(\.name))
        #expect(Set(AsyncBindings.functions.keys) == bound)
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
