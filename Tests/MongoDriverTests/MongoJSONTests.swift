import MongoDriver
import Testing

@Suite struct MongoJSONTests {
    @Test func plainValuesAreUnchanged() {
        #expect(MongoJSON.escape("alice") == "alice")
        #expect(MongoJSON.escape("sip:bob@example.com;x=ü") == "sip:bob@example.com;x=ü")
        #expect(MongoJSON.escape("") == "")
    }

    @Test func quotesBackslashesAndControlsAreEscaped() {
        #expect(MongoJSON.escape(#"a"b"#) == #"a\"b"#)
        #expect(MongoJSON.escape(#"a\b"#) == #"a\\b"#)
        #expect(MongoJSON.escape("l1\nl2\r\t") == #"l1\nl2\r\t"#)
        #expect(MongoJSON.escape("\u{01}\u{1F}\u{7F}") == #"\u0001\u001f\u007f"#)
        #expect(MongoJSON.escape(#"x"}, "$where": "1"#) == #"x\"}, \"$where\": \"1"#)
        #expect(MongoJSON.quote(#"say "hi""#) == #""say \"hi\"""#)
    }
}
