import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A client that writes its whole request, body and all, before it reads a byte of the answer, as
/// Python's urllib does, on a blocking socket whose reads and writes give up after `timeout` seconds.
struct WholeBodyFirstClient {
    enum Outcome: Equatable {
        case status(Int)
        /// The server closed or reset the connection without an answer.
        case closed
    }

    struct Stalled: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    var timeout = 20

    /// Sends each request in turn on one connection and reads one answer after each.
    func exchange(_ requests: [[UInt8]]) async throws -> [Outcome] {
        let port = port
        let timeout = timeout
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try Self.run(requests, port: port, timeout: timeout) })
            }.start()
        }
    }

    static func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    private static func run(_ requests: [[UInt8]], port: Int, timeout: Int) throws -> [Outcome] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Stalled(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Stalled(description: "connect to 127.0.0.1:\(port): errno \(errno)") }
        var outcomes: [Outcome] = []
        var pending: [UInt8] = []
        for request in requests {
            var sent = 0
            while sent < request.count {
                let written = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written > 0 {
                    sent += written
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw Stalled(description: "the server stopped reading: \(sent) of \(request.count) bytes written in \(timeout) s")
                } else {
                    break  // reset by the server: what it answered, if anything, is read below
                }
            }
            let outcome = try readAnswer(fd, pending: &pending, timeout: timeout)
            outcomes.append(outcome)
            if outcome == .closed { break }
        }
        return outcomes
    }

    /// Reads one answer's head and its `Content-Length` body, leaving what follows in `pending`.
    private static func readAnswer(_ fd: Int32, pending: inout [UInt8], timeout: Int) throws -> Outcome {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let end = pending.indices.dropLast(3).first(where: { pending[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) }) {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                let lines = head.split(separator: "\r\n")
                guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return .closed }
                let length =
                    lines.dropFirst().compactMap { line -> Int? in
                        let parts = line.split(separator: ":", maxSplits: 1)
                        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                        return Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }.first ?? 0
                while pending.count < end + 4 + length {
                    let read = recv(fd, &buffer, buffer.count, 0)
                    if read <= 0 { break }
                    pending += buffer[..<read]
                }
                pending.removeFirst(min(pending.count, end + 4 + length))
                return .status(status)
            }
            let read = recv(fd, &buffer, buffer.count, 0)
            if read > 0 {
                pending += buffer[..<read]
            } else if read < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                throw Stalled(description: "no answer within \(timeout) s")
            } else {
                return .closed
            }
        }
    }
}

/// A route that refuses a request before reading its body still answers a client that writes the
/// whole body first (issue 31: the early 413 left such a client hanging).
@Suite("Early refusals", .serialized)
struct EarlyRefusalTests {
    static let bigDocument = [UInt8](repeating: 0x25, count: 26 * 1_048_576)

    @Test func everyEarlyRefusalReachesAClientThatWritesItsWholeBodyFirst() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let port = try #require(client.port)
                let liaison = fixture.token("liaison", "tuoitre")
                let close = ("Connection", "close")
                let refusals: [(String, [UInt8], Int)] = [
                    // Over the document cap: refused from Content-Length, before a byte of the body is read.
                    (
                        "an upload over 25 MiB",
                        WholeBodyFirstClient.request(
                            "POST", "/v1/documents", headers: [close, ("Authorization", "Bearer \(liaison)"), ("Content-Type", "application/pdf")],
                            body: Self.bigDocument), 413
                    ),
                    (
                        "an upload without a token", WholeBodyFirstClient.request("POST", "/v1/documents", headers: [close], body: Self.bigDocument),
                        401
                    ),
                    (
                        "a finding that is not JSON",
                        WholeBodyFirstClient.request(
                            "POST", "/v1/findings", headers: [close, ("Authorization", "Bearer \(liaison)"), ("Content-Type", "text/plain")],
                            body: [UInt8](repeating: 0x41, count: 4 * 1_048_576)), 415
                    ),
                    (
                        "a sign-in form over 16 KiB",
                        WholeBodyFirstClient.request(
                            "POST", "/dashboard/sign-in", headers: [close, ("Content-Type", "application/x-www-form-urlencoded")],
                            body: [UInt8](repeating: 0x61, count: 4 * 1_048_576)), 413
                    ),
                    (
                        "a route that takes no body",
                        WholeBodyFirstClient.request("POST", "/healthz", headers: [close], body: [UInt8](repeating: 0x61, count: 4 * 1_048_576)), 405
                    ),
                ]
                for (what, request, status) in refusals {
                    let outcomes = try await WholeBodyFirstClient(port: port).exchange([request])
                    #expect(outcomes == [.status(status)], "\(what)")
                }
                // Kept alive, the connection serves the next request once the refused body is read away.
                let refused = WholeBodyFirstClient.request(
                    "POST", "/v1/documents", headers: [("Authorization", "Bearer \(liaison)"), ("Content-Type", "application/pdf")],
                    body: Self.bigDocument)
                let outcomes = try await WholeBodyFirstClient(port: port).exchange([
                    refused, WholeBodyFirstClient.request("GET", "/healthz", body: []),
                ])
                #expect(outcomes == [.status(413), .status(200)])
                #expect(try await fixture.count("document_blobs") == 0)
            }
        }
    }

    /// Past the bound (64 MiB), the server stops reading and closes the connection: the client is told
    /// at once, it never waits.
    @Test func aRefusedBodyPastTheBoundClosesTheConnection() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.live) { client in
                let port = try #require(client.port)
                let huge = [UInt8](repeating: 0x25, count: 80 * 1_048_576)
                let request = WholeBodyFirstClient.request("POST", "/v1/documents", headers: [("Content-Type", "application/pdf")], body: huge)
                let outcomes = try await WholeBodyFirstClient(port: port).exchange([request])
                #expect(outcomes == [.closed] || outcomes == [.status(401)])
            }
        }
    }
}
