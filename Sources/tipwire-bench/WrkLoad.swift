import ArgumentParser
import Foundation

/// Closed-loop HTTP load from wrk, a C load generator in a process of its own.
///
/// A throughput run is compared with pgbench, a C client in its own process; wrk drives the API the
/// same way, so neither side's figure carries clients sharing the measured process.
struct WrkLoad {
    /// The request; each also carries an `Idempotency-Key` no other uses, and `body` makes its body from that key.
    var method: String
    var path: String
    var headers: [(String, String)]
    var body: @Sendable (String) -> [UInt8]

    struct Outcome {
        var created: Int
        /// Answers other than 201, and connection errors and timeouts.
        var failed: Int
        var seconds: Double
    }

    /// `connections` connections from `threads` threads, each sending a request as soon as it has its
    /// last answer, for `seconds`. Every request carries a key `PREFIX-THREAD-N` no other request uses.
    func run(port: Int, connections: Int, threads: Int, seconds: Int, keyPrefix: String) async throws -> Outcome {
        let script = NSTemporaryDirectory() + "tipwire-bench-wrk-\(UUID().uuidString).lua"
        try luaScript(keyPrefix: keyPrefix).write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let result = try await runTool(
            "wrk",
            [
                "-c", "\(connections)", "-t", "\(threads)", "-d", "\(seconds)s", "--timeout", "30s", "-s", script,
                "http://127.0.0.1:\(port)\(path)",
            ])
        let line = result.output.split(separator: "\n").first { $0.hasPrefix("tipwire-bench wrk:") }
        guard result.status == 0, let line, let outcome = Self.outcome(line) else {
            throw ValidationError("wrk failed (is it installed? deploy/local/up installs it):\n\(result.output)")
        }
        return outcome
    }

    /// Parses `tipwire-bench wrk: created=N failed=N seconds=S`.
    static func outcome(_ line: Substring) -> Outcome? {
        var fields: [Substring: Substring] = [:]
        for field in line.split(separator: " ").dropFirst(2) {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard let created = fields["created"].flatMap({ Int($0) }), let failed = fields["failed"].flatMap({ Int($0) }),
            let seconds = fields["seconds"].flatMap({ Double($0) }), seconds > 0
        else { return nil }
        return Outcome(created: created, failed: failed, seconds: seconds)
    }

    /// The wrk script: each thread numbers its requests; `done` sums every thread's counts.
    func luaScript(keyPrefix: String) -> String {
        let marker = "\u{1}"
        let bodyParts = String(decoding: body(marker), as: UTF8.self).components(separatedBy: marker).map(Self.luaString)
        let headerFields = headers.map { "[\(Self.luaString($0.0))] = \(Self.luaString($0.1))" }.joined(separator: ", ")
        return """
            local threads = {}
            local next_thread = 0
            function setup(thread)
              thread:set("thread", next_thread)
              next_thread = next_thread + 1
              table.insert(threads, thread)
            end
            function init(args)
              created, failed, sent = 0, 0, 0
            end
            local body_parts = {\(bodyParts.joined(separator: ", "))}
            function request()
              sent = sent + 1
              local key = \(Self.luaString(keyPrefix)) .. "-" .. thread .. "-" .. sent
              local headers = {\(headerFields)}
              headers["Idempotency-Key"] = key
              return wrk.format(\(Self.luaString(method)), nil, headers, table.concat(body_parts, key))
            end
            function response(status, headers, body)
              if status == 201 then created = created + 1 else failed = failed + 1 end
            end
            function done(summary, latency, requests)
              local c, f = 0, 0
              for _, thread in ipairs(threads) do
                c = c + thread:get("created")
                f = f + thread:get("failed")
              end
              local e = summary.errors
              f = f + e.connect + e.read + e.write + e.timeout
              io.write(string.format("tipwire-bench wrk: created=%d failed=%d seconds=%.3f\\n", c, f, summary.duration / 1e6))
            end

            """
    }

    /// A quoted Lua string holding `text`'s bytes exactly: printable ASCII as it is, the rest as `\ddd`.
    static func luaString(_ text: String) -> String {
        var quoted = "\""
        for byte in text.utf8 {
            if (0x20..<0x7F).contains(byte), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                quoted.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                quoted += "\\" + String(format: "%03d", byte)
            }
        }
        return quoted + "\""
    }
}
