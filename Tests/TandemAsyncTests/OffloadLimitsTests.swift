import Testing
@testable import TandemAsync

@Suite struct OffloadLimitsTests {
    let known = ["mongodb", "pg_connect", "ldap_connect", "exec"]

    @Test func parsesTheConfigForm() throws {
        let limits = try OffloadLimits.parse("mongodb=16;pg_connect=4;ldap_connect=4", knownDrivers: known)
        #expect(limits.values == ["mongodb": 16, "pg_connect": 4, "ldap_connect": 4])
        #expect(limits["mongodb"] == 16)
        #expect(try OffloadLimits.parse(" exec = 2 ; ").values == ["exec": 2])
        #expect(try OffloadLimits.parse("").values.isEmpty)
        #expect(try OffloadLimits.parse("exec=0", minimum: 0).values == ["exec": 0], "queue bounds may be 0")
    }

    @Test func reportsClearErrors() {
        #expect(throws: OffloadConfigError.unknownDriver("mysql", known: known.sorted())) {
            try OffloadLimits.parse("mongodb=1;mysql=2", knownDrivers: known)
        }
        #expect(throws: OffloadConfigError.badNumber(driver: "mongodb", text: "x", minimum: 1, maximum: 100_000)) {
            try OffloadLimits.parse("mongodb=x", knownDrivers: known)
        }
        #expect(throws: OffloadConfigError.badNumber(driver: "exec", text: "0", minimum: 1, maximum: 100_000)) {
            try OffloadLimits.parse("exec=0")
        }
        #expect(throws: OffloadConfigError.badNumber(driver: "exec", text: "-3", minimum: 1, maximum: 100_000)) {
            try OffloadLimits.parse("exec=-3")
        }
        #expect(throws: OffloadConfigError.malformedEntry("exec")) { try OffloadLimits.parse("exec") }
        #expect(throws: OffloadConfigError.malformedEntry("=4")) { try OffloadLimits.parse("=4") }
        #expect(throws: OffloadConfigError.duplicateDriver("exec")) { try OffloadLimits.parse("exec=1;exec=2") }
        let message = OffloadConfigError.unknownDriver("mysql", known: ["exec", "mongodb"]).description
        #expect(message == "unknown async driver 'mysql' (known: exec, mongodb)")
    }
}
