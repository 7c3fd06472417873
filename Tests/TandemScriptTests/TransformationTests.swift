import Foundation
import Testing
@testable import TandemScript

/// Transformations, checked against the results the OpenSIPS 3.6 documentation gives.
@Suite struct TransformationTests {
    /// `$(var(x){t}...)` with `$var(x)` set to `input`.
    private func tr(_ input: String, _ transformations: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ScriptValue {
        let quoted = input.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        var r = try Run("route { $var(x) = '\(quoted)'; $var(r) = $(var(x)\(transformations)); }", sourceLocation: sourceLocation)
        r.run()
        return r.variable("r")
    }

    /// Part-picking chains run fused over the input's bytes: the same results as one at a time, NULL
    /// when a step's input is not what it picks from, "" for an absent part.
    @Test func fusedChainsMatchStepByStep() throws {
        let n = "\"Alice\" <sip:alice@example.com;transport=udp>;tag=1928"
        let uri = try tr(n, "{nameaddr.uri}")
        #expect(uri == .string("sip:alice@example.com;transport=udp"))
        #expect(try tr(n, "{nameaddr.uri}{uri.user}") == tr(uri.stringValue, "{uri.user}"))
        #expect(try tr(n, "{nameaddr.uri}{uri.user}") == .string("alice"))
        #expect(try tr(n, "{nameaddr.uri}{uri.host}{s.toupper}") == .string("EXAMPLE.COM"))
        #expect(try tr(n, "{nameaddr.uri}{uri.params}{param.value,transport}") == .string("udp"))
        #expect(try tr(n, "{uri.user}{nameaddr.uri}") == .null)
        #expect(try tr("<sip:example.com>", "{nameaddr.uri}{uri.user}") == .string(""))
        #expect(try tr("sip:bob@x", "{nameaddr.name}") == .string(""))
        #expect(try tr("sip:bob@x", "{nameaddr.uri}{uri.port}{s.len}") == .int(0))
    }

    @Test func stringLengthIntAndCase() throws {
        #expect(try tr("abc", "{s.len}") == .int(3))
        #expect(try tr("2868.12 sec", "{s.int}") == .int(2868))
        #expect(try tr("no digits", "{s.int}") == .int(0))
        #expect(try tr("AbC", "{s.tolower}") == .string("abc"))
        #expect(try tr("AbC", "{s.toupper}") == .string("ABC"))
        #expect(try tr(" \t ab c \r\n", "{s.trim}") == .string("ab c"))
        #expect(try tr("  ab  ", "{s.trimr}") == .string("  ab"))
        #expect(try tr("  ab  ", "{s.triml}") == .string("ab  "))
    }

    @Test func substrAsDocumented() throws {
        let x = "abcdefghijk"
        #expect(try tr(x, "{s.substr,3,4}") == .string("defg"))
        #expect(try tr(x, "{s.substr,1,0}") == .string("bcdefghijk"))
        // The documentation prints "cdbcdefghi" here, a typo: from offset 2 up to 2 before the end.
        #expect(try tr(x, "{s.substr,2,-2}") == .string("cdefghi"))
        #expect(try tr(x, "{s.substr,-5,-3}") == .string("gh"))
        #expect(try tr(x, "{s.substr,-5,0}") == .string("ghijk"))
        #expect(try tr(x, "{s.substr,-100,0}") == .string("abcdefghijk"))
        #expect(try tr(x, "{s.substr,2,100}") == .string("cdefghijk"))
        #expect(try tr(x, "{s.substr,100,5}") == .string(""))
    }

    @Test func selectIndexAndFill() throws {
        #expect(try tr("12,34,56", "{s.select,1,,}") == .string("34"))
        #expect(try tr("12,34,56", "{s.select,-2,,}") == .string("34"))
        #expect(try tr("a b c", "{s.select,2, }") == .string("c"))
        let hay = "onetwothreeone"
        #expect(try tr(hay, "{s.index,one}") == .int(0))
        #expect(try tr(hay, "{s.index,one,0}") == .int(0))
        #expect(try tr(hay, "{s.index,one,3}") == .int(11))
        #expect(try tr(hay, "{s.index,one,-11}") == .int(11))
        #expect(try tr(hay, "{s.index,one,-25}") == .int(11))
        #expect(try tr(hay, "{s.index,ONE}") == .int(-1))
        #expect(try tr(hay, "{s.toupper}{s.index,ONE}") == .int(0))
        #expect(try tr(hay, "{s.rindex,one}") == .int(11))
        #expect(try tr(hay, "{s.rindex,one,10}") == .int(0))
        #expect(try tr("17", "{s.fill.left,0,4}") == .string("0017"))
        #expect(try tr("17", "{s.fill.left,abc,7}") == .string("abcab17"))
        #expect(try tr("17", "{s.fill.right,0,4}") == .string("1700"))
        #expect(try tr("17", "{s.fill.right,abc,7}") == .string("17abcab"))
        #expect(try tr("17", "{s.width,4}") == .string("17  "))
        #expect(try tr("abcdef", "{s.width,3}") == .string("abc"))
    }

    @Test func encodingsAndEscapes() throws {
        #expect(try tr("abc", "{s.encode.hexa}") == .string("616263"))
        #expect(try tr("616263", "{s.decode.hexa}") == .string("abc"))
        #expect(try tr("255", "{s.dec2hex}") == .string("ff"))
        #expect(try tr("ff", "{s.hex2dec}") == .int(255))
        #expect(try tr("Hello", "{s.b64encode}") == .string("SGVsbG8="))
        #expect(try tr("SGVsbG8=", "{s.b64decode}") == .string("Hello"))
        #expect(try tr("ab", "{s.b64encode}{s.b64decode}") == .string("ab"))
        #expect(try tr("a'b\"c\\", "{s.escape.common}") == .string("a\\'b\\\"c\\\\"))
        #expect(try tr("a\\'b", "{s.unescape.common}") == .string("a'b"))
        #expect(try tr("a b@c;d", "{s.escape.user}") == .string("a%20b%40c;d"))
        #expect(try tr("a%20b%40c", "{s.unescape.user}") == .string("a b@c"))
        #expect(try tr("a;b=c d", "{s.escape.param}") == .string("a%3Bb%3Dc%20d"))
        #expect(try tr("a%3Bb", "{s.unescape.param}") == .string("a;b"))
    }

    @Test func digests() throws {
        #expect(try tr("", "{s.md5}") == .string("d41d8cd98f00b204e9800998ecf8427e"))
        #expect(try tr("abc", "{s.md5}") == .string("900150983cd24fb0d6963f7d28e17f72"))
        #expect(try tr("The quick brown fox jumps over the lazy dog", "{s.md5}") == .string("9e107d9d372bb6826bd81d3542a419d6"))
        #expect(try tr("abc", "{s.sha1}") == .string("a9993e364706816aba3e25717850c26c9cd0d89d"))
        let twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(try tr(twoBlocks, "{s.sha1}") == .string("84983e441c3bd26ebaae4aa1f95129e5e54670f1"))
        #expect(try tr("abc", "{s.sha256}") == .string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(try tr(twoBlocks, "{s.sha256}") == .string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
    }

    @Test func uriParts() throws {
        let u = "sip:alice:secret@example.com:5070;transport=TCP;lr;ttl=5;maddr=10.0.0.9;method=INVITE;r2=on;foo=bar?subject=hi"
        #expect(try tr(u, "{uri.user}") == .string("alice"))
        #expect(try tr(u, "{uri.passwd}") == .string("secret"))
        #expect(try tr(u, "{uri.host}") == .string("example.com"))
        #expect(try tr(u, "{uri.port}") == .string("5070"))
        #expect(try tr(u, "{uri.params}") == .string("transport=TCP;lr;ttl=5;maddr=10.0.0.9;method=INVITE;r2=on;foo=bar"))
        #expect(try tr(u, "{uri.param,foo}") == .string("bar"))
        #expect(try tr(u, "{uri.param,missing}") == .string(""))
        #expect(try tr(u, "{uri.headers}") == .string("subject=hi"))
        #expect(try tr(u, "{uri.transport}") == .string("TCP"))
        #expect(try tr(u, "{uri.ttl}") == .string("5"))
        #expect(try tr(u, "{uri.maddr}") == .string("10.0.0.9"))
        #expect(try tr(u, "{uri.method}") == .string("INVITE"))
        #expect(try tr(u, "{uri.lr}") == .string(""))
        #expect(try tr(u, "{uri.r2}") == .string("on"))
        #expect(try tr(u, "{uri.uparams}") == .string("foo=bar"))
        #expect(try tr(u, "{uri.schema}") == .string("sip"))
        #expect(try tr("sips:[2001:db8::1]:5061", "{uri.host}") == .string("[2001:db8::1]"))
        #expect(try tr("sips:[2001:db8::1]:5061", "{uri.port}") == .string("5061"))
        #expect(try tr("sip:example.com", "{uri.user}") == .string(""))
        #expect(try tr("tel:+15551234;phone-context=x", "{uri.user}") == .string("+15551234"))
        #expect(try tr("not a uri", "{uri.user}") == .null)
        #expect(try tr("\"Bob\" <sip:bob@b.example>", "{uri.user}") == .null)
        #expect(try tr("<sip:bob@b.example>", "{uri.user}") == .string("bob"))
    }

    @Test func paramLists() throws {
        let p = "a=1;b=2;c=3"
        #expect(try tr(p, "{param.value,c}") == .string("3"))
        #expect(try tr(p, "{param.valueat,1}") == .string("2"))
        #expect(try tr(p, "{param.name,1}") == .string("b"))
        #expect(try tr(p, "{param.count}") == .int(3))
        #expect(try tr(p, "{param.exist,b}") == .int(1))
        #expect(try tr(p, "{param.exist,z}") == .int(0))
        #expect(try tr(";lr;x=y", "{param.count}") == .int(2))
        #expect(try tr("a=1,b=2", "{param.value,b,,}") == .string("2"))
    }

    @Test func nameAddrParts() throws {
        let n = "\"test\" <sip:test@opensips.org>;tag=dat43h"
        #expect(try tr(n, "{nameaddr.name}") == .string("\"test\""))
        #expect(try tr(n, "{nameaddr.uri}") == .string("sip:test@opensips.org"))
        #expect(try tr(n, "{nameaddr.len}") == .int(30))
        #expect(try tr(n, "{nameaddr.params}") == .string("tag=dat43h"))
        #expect(try tr(n, "{nameaddr.param,tag}") == .string("dat43h"))
        #expect(try tr("sip:bob@b.example;tag=9", "{nameaddr.uri}") == .string("sip:bob@b.example"))
    }

    @Test func viaParts() throws {
        let v = "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK77;rport=5062;received=1.2.3.4 (proxy)"
        #expect(try tr(v, "{via.name}") == .string("SIP"))
        #expect(try tr(v, "{via.version}") == .string("2.0"))
        #expect(try tr(v, "{via.transport}") == .string("UDP"))
        #expect(try tr(v, "{via.host}") == .string("10.0.0.1"))
        #expect(try tr(v, "{via.port}") == .string("5062"))
        #expect(try tr(v, "{via.comment}") == .string("proxy"))
        #expect(try tr(v, "{via.params}") == .string("branch=z9hG4bK77;rport=5062;received=1.2.3.4"))
        #expect(try tr(v, "{via.param,rport}") == .string("5062"))
        #expect(try tr(v, "{via.branch}") == .string("z9hG4bK77"))
        #expect(try tr(v, "{via.received}") == .string("1.2.3.4"))
        #expect(try tr("SIP/2.0/TCP [2001:db8::1]:5060", "{via.host}") == .string("[2001:db8::1]"))
    }

    @Test func csvRegexAndIP() throws {
        #expect(try tr("a,b,c", "{csv.count}") == .int(3))
        #expect(try tr("a,b,c", "{csv.value,1}") == .string("b"))
        #expect(try tr("abcabc", "{re.subst,/b/X/g}") == .string("aXcaXc"))
        #expect(try tr("abcabc", "{re.subst,/(a)(b)/\\2\\1/}") == .string("bacabc"))
        #expect(try tr("ABC", "{re.subst,/b/x/i}") == .string("AxC"))
        #expect(try tr("10.0.0.1", "{ip.isip}") == .int(1))
        #expect(try tr("example.com", "{ip.isip}") == .int(0))
        #expect(try tr("2001:db8::1", "{ip.family}") == .string("INET6"))
        #expect(try tr("10.1.2.3", "{ip.family}") == .string("INET"))
        #expect(try tr("10.1.2.3", "{ip.matches,10.0.0.0/8}") == .int(1))
        #expect(try tr("11.1.2.3", "{ip.matches,10.0.0.0/8}") == .int(0))
    }

    @Test func chainsOnHeadersAndVariableParameters() throws {
        let msg = TestMessage()
        msg.headers.append(("From", "\"Bob\" <sip:BOB@example.org>;tag=1"))
        var r = try Run("""
        route {
            $var(u) = $(hdr(From){nameaddr.uri}{uri.user}{s.tolower});
            $var(o) = 2; $var(n) = 3;
            $var(x) = "abcdefgh";
            $var(s) = $(var(x){s.substr,$var(o),$var(n)});
            $var(p) = "tag";
            $var(t) = $(hdr(From){nameaddr.param,$var(p)});
            xlog("user=$(hdr(From){nameaddr.uri}{uri.user})\\n");
            if ($(var(x){s.len}) == 8) { $var(cond) = 1; }
        }
        """, message: msg)
        r.run()
        #expect(r.variable("u") == .string("bob"))
        #expect(r.variable("s") == .string("cde"))
        #expect(r.variable("t") == .string("1"))
        #expect(r.variable("cond") == .int(1))
        #expect(r.log.contains { $0.contains("user=BOB") })
    }

    /// The common transformations compiled to cases (``CompiledTransformation``) give what their
    /// general definitions give, on strings, integers and NULL.
    @Test func compiledCommonStepsMatchDefinitions() throws {
        let inputs: [ScriptValue] = [
            .null, .int(5060), .int(-7), .string(""), .string("abc"), .string(" -42x"), .string("\t+17 sec"),
            .string("Mixed-Case-Value"), .string("ÄÖü-Mixed"), .string("a=1;tag=abc;b=2"), .string("a=1,b=2"),
            .string("sip:bob@10.0.0.1:5060;transport=tcp;lr"), .string("sip:+15551234@127.0.0.1:5060"),
            .string("\"Alice\" <sip:alice@example.com;transport=udp>;tag=1928"), .string("not a uri"),
            .string("99999999999999999999"), .string("-9223372036854775808"), .string("-"),
        ]
        let texts = ["s.len", "s.int", "s.tolower", "s.toupper", "uri.user", "uri.host", "uri.port", "uri.schema",
                     "uri.params", "uri.passwd", "uri.headers", "nameaddr.uri", "nameaddr.name", "nameaddr.params",
                     "param.value,tag", "param.value,b,,", "param.value,zz"]
        var ctx = ExecutionContext(script: try #require(ScriptChecker().check(source: "route { exit; }", fileName: "t.cfg").script),
                                   message: TestMessage(), proxy: TestProxy())
        for text in texts {
            guard case .success(let spec) = Transformations.parse(text),
                  case .success(let impl) = Transformations.build(spec) else { Issue.record("\(text) does not build"); continue }
            let step = try #require(CompiledTransformation.common(spec), "\(text) is not compiled to a case")
            let args: [ScriptValue] = spec.arguments.map { if case .literal(let s) = $0 { return .string(s) } else { return .null } }
            for v in inputs {
                #expect(step.apply(v, &ctx) == impl(v, args), "{\(text)} on \(v)")
            }
        }
        #expect(StringTransformations.leadingInt(.string("99999999999999999999")) == Int.max)
        #expect(StringTransformations.leadingInt(.string("-9223372036854775808")) == Int.min)
        #expect(StringTransformations.leadingInt(.string(" \t-42x")) == -42)
        #expect(StringTransformations.leadingInt(.string("+")) == 0)
        #expect(StringTransformations.leadingIntIfAny("+") == nil)
    }

    /// The word-at-a-time delimiter scan finds what a byte loop finds, at every length and offset
    /// (whole words, the 1–7 byte tail, ranges shorter than a word, a stop in the middle).
    @Test func byteScanMatchesByteLoop() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array("sip:@;?[]a1 <>\"".utf8)
        for n in 0..<1200 {
            let length = n % 41
            var bytes: [UInt8] = []
            for _ in 0..<length {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(seed >> 33) % alphabet.count])
            }
            bytes.withUnsafeBufferPointer { b in
                for from in 0...length {
                    let to = length - (n % 3 == 0 ? min(from, 2) : 0)
                    guard from <= to else { continue }
                    let stopAt: UInt8 = n % 2 == 0 ? 63 : 0 // stop at the first `?` in half the cases
                    var found: [Int] = []
                    _ = ByteScan.forEach(b, from: from, to: to, 63, 64, 58) { k, c in
                        found.append(k)
                        return c != stopAt
                    }
                    var expected: [Int] = []
                    for k in from..<to where b[k] == 63 || b[k] == 64 || b[k] == 58 {
                        expected.append(k)
                        if b[k] == stopAt { break }
                    }
                    #expect(found == expected, "\(String(decoding: b, as: UTF8.self)) [\(from)..<\(to)]")
                }
            }
        }
    }

    @Test func checkerMessages() {
        let r = check(prelude + """
        route {
            $var(a) = $(var(x){s.substr,a,1});
            $var(b) = $(var(x){s.nope});
            $var(c) = $(var(x){sdp.line});
            $var(d) = $(var(x){s.select,1});
            $var(e) = $(var(x){re.subst,/[/x/});
            $(var(x){s.len}) = 1;
            $var(f) = $(var(x){s.len}{uri.user});
        }
        """)
        var texts = r.diagnostics.map(\.message)
        #expect(texts.count == 6)
        #expect(texts.remove(at: 4).hasPrefix("'{re.subst,/[/x/}': invalid regular expression: "))
        #expect(texts == [
            "'{s.substr,a,1}': parameter 1 must be an integer, got 'a'",
            "unknown transformation '{s.nope}'",
            "transformation '{sdp.line}' is OpenSIPS 3.6 syntax that Tandem does not support yet",
            "transformation '{s.select}' expects 2 parameters, got 1",
            "cannot assign to '$(var(x){s.len})': a transformed value is read-only",
        ])
        #expect(r.missing.map(\.name) == ["{sdp.line}"])
    }
}
