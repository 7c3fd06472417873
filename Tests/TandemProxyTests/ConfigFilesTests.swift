import Foundation
import TandemScript
import TandemServer
import Testing

/// The configs shipped in Configs/ must stay usable as the language and drivers change.
struct ConfigFilesTests {
    static var configDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configs")
    }

    @Test("Every config under Configs/ checks without errors")
    func shippedConfigsCheck() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.configDirectory.path)
            .filter { $0.hasSuffix(".cfg") }
        #expect(files.contains("default.cfg"))
        for file in files {
            let path = Self.configDirectory.appendingPathComponent(file).path
            let loaded = TandemServer.load(source: try String(contentsOfFile: path, encoding: .utf8), fileName: file)
            #expect(!loaded.hasErrors, "\(loaded.diagnostics.map(\.description))")
            #expect(loaded.server != nil, "\(file)")
        }
    }
}
