import PostgresDriver
import Testing

@Suite struct PostgresConnectionSettingsTests {
    @Test func urlWithIPLiteralIsPinnedToHostaddr() throws {
        let settings = try PostgresConnectionSettings("postgres://user:secret@127.0.0.1:5433/db")
        #expect(settings.value(of: "host") == "127.0.0.1")
        #expect(settings.value(of: "hostaddr") == "127.0.0.1")
        #expect(settings.value(of: "port") == "5433")
        #expect(settings.value(of: "user") == "user")
        #expect(settings.value(of: "password") == "secret")
        #expect(settings.value(of: "dbname") == "db")
    }

    @Test func localhostAndIPv6AreNumeric() throws {
        #expect(try PostgresConnectionSettings("postgresql://localhost/db").value(of: "hostaddr") == "127.0.0.1")
        #expect(try PostgresConnectionSettings("postgresql://[::1]:5432/db").value(of: "hostaddr") == "::1")
    }

    @Test func keywordConninfoAndUnixSocketNeedNoLookup() throws {
        let tcp = try PostgresConnectionSettings("hostaddr=10.0.0.1 port=1 dbname=x")
        #expect(tcp.value(of: "hostaddr") == "10.0.0.1" && tcp.value(of: "host") == nil)
        let unix = try PostgresConnectionSettings("host=/tmp/sock dbname=x")
        #expect(unix.value(of: "hostaddr") == nil)
    }

    @Test func invalidConninfoThrows() {
        #expect(throws: PostgresError.self) { try PostgresConnectionSettings("postgres://host:notaport:x/") }
        #expect(throws: PostgresError.self) { try PostgresConnectionSettings("nonsense_keyword=1") }
    }
}
