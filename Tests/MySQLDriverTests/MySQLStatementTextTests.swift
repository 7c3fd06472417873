import MySQLDriver
import Testing

/// `$n` → `?` rewriting (no server needed).
struct MySQLStatementTextTests {
    @Test func placeholdersOutsideQuotesBecomeMarkersInOrder() {
        let s = MySQLStatementText("SELECT a FROM t WHERE u = $1 AND d = $2 OR x = $1")
        #expect(s.sql == "SELECT a FROM t WHERE u = ? AND d = ? OR x = ?")
        #expect(s.parameterOrder == [0, 1, 0])
        #expect(s.arrange(["u", nil]) == ["u", nil, "u"])
    }

    @Test func quotedDollarsAndPlainDollarsStay() {
        let s = MySQLStatementText(#"SELECT '$1', "a$2", `c$3`, 'it''s $4', 'x\'$5' , $ , $0, $6"#)
        #expect(s.sql == #"SELECT '$1', "a$2", `c$3`, 'it''s $4', 'x\'$5' , $ , $0, ?"#)
        #expect(s.parameterOrder == [5])
        #expect(s.arrange([]) == [nil])
    }
}

/// `mysql://` URLs.
struct MySQLConnectionSettingsTests {
    @Test func urlParts() throws {
        let s = try MySQLConnectionSettings("mysql://op%40x:p%3Ass@localhost:3307/opensips")
        #expect(s.user == "op@x" && s.password == "p:ss" && s.host == "127.0.0.1" && s.port == 3307)
        #expect(s.database == "opensips" && s.socket == nil)
        #expect(s.address == "127.0.0.1:3307/opensips")
        let d = try MySQLConnectionSettings("mysql://root@10.0.0.1/db")
        #expect(d.port == 3306 && d.password == "" && d.host == "10.0.0.1")
        let u = try MySQLConnectionSettings("mysql://u:p@/db?socket=/run/mysqld/mysqld.sock")
        #expect(u.socket == "/run/mysqld/mysqld.sock" && u.host == "")
        #expect(throws: MySQLError.self) { try MySQLConnectionSettings("mysql://u@h:99999/db") }
        #expect(throws: MySQLError.self) { try MySQLConnectionSettings("postgres://u@h/db") }
    }
}
