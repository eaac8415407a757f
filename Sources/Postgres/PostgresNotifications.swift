import CLibPQ
import Foundation
import Logging
import Synchronization

/// A notification received through LISTEN.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

/// Notifications on the listened channels, as an `AsyncSequence`.
///
/// A dedicated connection and thread wait on the socket. If the connection
/// drops, the listener reconnects and listens again; notifications sent while it
/// was down are lost (that is PostgreSQL's rule), so it yields a notification on
/// the channel `""` after reconnecting: consumers should then re-read whatever
/// state they were watching. Ending iteration (or dropping the sequence) stops it.
public struct PostgresNotifications: AsyncSequence, Sendable {
    public typealias Element = PostgresNotification
    let stream: AsyncStream<PostgresNotification>
    let loop: ListenerLoop

    public func makeAsyncIterator() -> AsyncStream<PostgresNotification>.Iterator {
        stream.makeAsyncIterator()
    }

    /// Stops listening and ends the sequence.
    public func stop() { loop.stop() }

    static func start(_ configuration: PostgresConfiguration, channels: [String], logger: Logger) async throws -> Self {
        let (stream, continuation) = AsyncStream.makeStream(of: PostgresNotification.self, bufferingPolicy: .bufferingNewest(100_000))
        let loop = ListenerLoop(configuration: configuration, channels: channels, continuation: continuation, logger: logger)
        continuation.onTermination = { _ in loop.stop() }
        try await loop.start()
        return Self(stream: stream, loop: loop)
    }
}

final class ListenerLoop: Sendable {
    private let configuration: PostgresConfiguration
    private let channels: [String]
    private let continuation: AsyncStream<PostgresNotification>.Continuation
    private let logger: Logger
    private let stopped = Mutex(false)

    init(configuration: PostgresConfiguration, channels: [String], continuation: AsyncStream<PostgresNotification>.Continuation, logger: Logger) {
        self.configuration = configuration
        self.channels = channels
        self.continuation = continuation
        self.logger = logger
    }

    func stop() { stopped.withLock { $0 = true } }
    private var isStopped: Bool { stopped.withLock { $0 } }

    /// Opens the first connection (errors surface to the caller), then runs on its own thread.
    func start() async throws {
        let first = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SendablePointer, any Error>) in
            Thread.detachNewThread { [self] in
                continuation.resume(with: Result { SendablePointer(try self.connectAndListen()) })
            }
        }
        Thread.detachNewThread { [self] in self.run(first.pointer) }
    }

    private func connectAndListen() throws -> OpaquePointer {
        let pg = try PostgresConnection.openBlocking(configuration)
        let sql = channels.map { "LISTEN \(quoteIdentifier($0))" }.joined(separator: "; ")
        try executeOrFinish(pg, sql)
        return pg
    }

    private func run(_ first: OpaquePointer) {
        var pg: OpaquePointer? = first
        var backoff = 0.1
        while !isStopped {
            guard let connection = pg else {
                Thread.sleep(forTimeInterval: backoff)
                do {
                    pg = try connectAndListen()
                    backoff = 0.1
                    logger.info("listener reconnected", metadata: ["channels": "\(channels)"])
                    continuation.yield(PostgresNotification(channel: "", payload: "reconnected", senderPID: 0))
                } catch {
                    backoff = min(backoff * 2, 5)
                    logger.warning("listener cannot reconnect yet", metadata: ["error": "\(error)"])
                }
                continue
            }
            var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 200)
            if ready > 0 {
                guard PQconsumeInput(connection) == 1, PQstatus(connection) == CONNECTION_OK else {
                    logger.warning("listener connection lost; reconnecting", metadata: ["channels": "\(channels)"])
                    PQfinish(connection)
                    pg = nil
                    continue
                }
                while let notification = PQnotifies(connection) {
                    let event = PostgresNotification(
                        channel: String(cString: notification.pointee.relname),
                        payload: String(cString: notification.pointee.extra),
                        senderPID: notification.pointee.be_pid)
                    PQfreemem(notification)
                    continuation.yield(event)
                }
            }
        }
        if let pg { PQfinish(pg) }
        continuation.finish()
    }
}
