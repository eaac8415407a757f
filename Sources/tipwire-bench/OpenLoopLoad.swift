import Foundation

/// Open-loop HTTP load: request `i` is sent at `start + i × interval` whatever became of the others,
/// from one thread that keeps as many keep-alive connections as are waiting for answers (poll).
///
/// A thread per connection would need one thread for every request out at once (a thousand at twice
/// the saturation rate, each waiting up to the shedding bound), and their scheduling took the CPU of
/// the server under test and let sends fall behind their schedule.
struct OpenLoopLoad {
    typealias Failure = BlockingHTTPConnection.Failure

    private final class Connection {
        let fd: Int32
        var received: [UInt8] = []
        /// The request it waits on: when it was scheduled and when it was sent.
        var outstanding: (scheduled: Double, sent: Double)?

        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    let port: Int

    /// Sends `count` requests `interval` seconds apart from `start` (`request(i)` makes the bytes of the
    /// i-th) and returns every answer, in no particular order. Blocking: run it off the cooperative pool.
    func run(count: Int, interval: Double, start: Date, request: (Int) -> [UInt8]) throws -> [BenchIngest.Answer] {
        let startTime = start.timeIntervalSinceReferenceDate
        var busy: [Connection] = []
        var idle: [Connection] = []
        var answers: [BenchIngest.Answer] = []
        answers.reserveCapacity(count)
        var next = 0
        while answers.count < count {
            var now = Date.timeIntervalSinceReferenceDate
            while next < count, startTime + Double(next) * interval <= now {
                let connection = try idle.popLast() ?? Connection(fd: try Self.nonblockingSocket(port: port))
                try BlockingHTTPConnection.sendAll(request(next), on: connection.fd)
                connection.outstanding = (startTime + Double(next) * interval, Date.timeIntervalSinceReferenceDate)
                busy.append(connection)
                next += 1
                now = Date.timeIntervalSinceReferenceDate
            }
            let untilNext = next < count ? startTime + Double(next) * interval - now : 0.1
            var descriptors = busy.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(max(0, min(100, (untilNext * 1000).rounded(.up)))))
            if ready < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "poll: \(String(cString: strerror(errno)))")
            }
            guard ready > 0 else { continue }
            var stillBusy: [Connection] = []
            stillBusy.reserveCapacity(busy.count)
            for (connection, descriptor) in zip(busy, descriptors) {
                guard descriptor.revents != 0, let (status, consumed) = try receive(on: connection) else {
                    stillBusy.append(connection)
                    continue
                }
                connection.received.removeFirst(consumed)
                guard let outstanding = connection.outstanding, connection.received.isEmpty else {
                    throw Failure(description: "an answer to no request")
                }
                let answered = Date.timeIntervalSinceReferenceDate
                answers.append(
                    BenchIngest.Answer(
                        status: status, sinceScheduledMs: (answered - outstanding.scheduled) * 1000,
                        serviceMs: (answered - outstanding.sent) * 1000))
                connection.outstanding = nil
                idle.append(connection)
            }
            busy = stillBusy
        }
        return answers
    }

    private static func nonblockingSocket(port: Int) throws -> Int32 {
        let fd = try BlockingHTTPConnection.connectedSocket(port: port)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    /// Reads what has arrived; returns a whole response's status and length once one is there.
    private func receive(on connection: Connection) throws -> (status: Int, consumed: Int)? {
        if let whole = try HTTPResponseHead.complete(connection.received) { return whole }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                connection.received.append(contentsOf: buffer[0..<count])
                continue
            }
            if count == 0 { throw Failure(description: "the server closed a connection") }
            if errno == EINTR { continue }
            if errno == EAGAIN { break }
            throw Failure(description: "recv: \(String(cString: strerror(errno)))")
        }
        return try HTTPResponseHead.complete(connection.received)
    }
}
