import ArgumentParser
import Foundation

/// A minimal HTTP/1.1 keep-alive client on a blocking socket, for load generation.
///
/// Benchmarks drive the server from plain threads with this rather than from the server's
/// own event loops, so the load generator does not borrow the server's threads.
final class BlockingHTTPConnection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var pending: [UInt8] = []

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(port: Int) throws {
        fd = try Self.connectedSocket(port: port)
    }

    /// A TCP socket connected to 127.0.0.1:`port`, with Nagle's delay off.
    static func connectedSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    deinit { close(fd) }

    /// Sends one request and reads the whole response; returns its status code.
    func send(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws -> Int {
        try write(Self.request(method: method, path: path, headers: headers, body: body))
        return try readResponse()
    }

    /// The bytes of an HTTP/1.1 request.
    static func request(method: String, path: String, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    private func write(_ bytes: [UInt8]) throws {
        try Self.sendAll(bytes, on: fd)
    }

    /// Writes all of `bytes` to the socket `fd`, blocking or not: when a nonblocking socket's buffer is
    /// full, it waits for room.
    static func sendAll(_ bytes: [UInt8], on fd: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if written >= 0 {
                offset += written
            } else if errno == EAGAIN {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 100)
            } else if errno != EINTR {
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func fill() throws {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if count < 0, errno == EINTR { return }
        guard count > 0 else {
            throw Failure(description: count == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))")
        }
        pending.append(contentsOf: buffer[0..<count])
    }

    /// Reads one response and returns its status code.
    private func readResponse() throws -> Int {
        while true {
            if let (status, consumed) = try HTTPResponseHead.complete(pending) {
                pending.removeFirst(consumed)
                return status
            }
            try fill()
        }
    }
}

/// The parts of an HTTP/1.1 response a load generator needs: its status, and where it ends.
enum HTTPResponseHead {
    /// The status and length of the response at the start of `bytes` (status line, headers and a
    /// Content-Length body), or nil until all of it has arrived. Works on the bytes as they are: a load
    /// generator must cost little beside the server it loads.
    static func complete(_ bytes: [UInt8]) throws -> (status: Int, consumed: Int)? {
        guard let end = endOfHead(in: bytes) else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2, let status = Int(statusLine.split(separator: " ")[1]) else {
            throw BlockingHTTPConnection.Failure(description: "not an HTTP response: \(head.prefix(80))")
        }
        var length = 0
        for line in lines.dropFirst() where line.utf8.count > 15 && line.prefix(15).lowercased() == "content-length:" {
            length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return bytes.count >= end + length ? (status, end + length) : nil
    }

    /// Where the head ends (just past its blank line); nil if it has not all arrived.
    static func endOfHead(in bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }
}

/// Runs blocking `work` on a thread of its own (not Swift's cooperative pool) and returns its result.
func runOnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// Percentile of sorted values (nearest rank).
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

/// Returns once something accepts connections on `port` (10 s at most).
func waitForServer(port: Int) async throws {
    for _ in 0..<100 {
        if (try? BlockingHTTPConnection(port: port)) != nil { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw ValidationError("the API did not start on port \(port)")
}
