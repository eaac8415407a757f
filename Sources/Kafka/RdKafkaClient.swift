import CRdKafka
import Foundation
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and the Swift state its C callbacks reach through the opaque pointer.
///
/// librdkafka documents its handle as thread-safe; this class is the only place
/// that creates and destroys it. Nothing outside the module sees C types.
final class RdKafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    let context: ClientContext

    /// Builds a handle from settings; `configure` may register more callbacks on the conf.
    init(
        type: rd_kafka_type_t, settings: [String: String], context: ClientContext,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws {
        let conf = rd_kafka_conf_new()!
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(configuration: cBufferText(errorBuffer), context: "setting \(key)")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        configure(conf)
        // rd_kafka_new takes ownership of conf on success only.
        guard let handle = rd_kafka_new(type, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(configuration: cBufferText(errorBuffer), context: "creating a Kafka client")
        }
        self.handle = handle
        self.context = context
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    /// librdkafka's fatal error, if the client hit one (e.g. an idempotence guarantee could not be kept).
    func fatalError(context: String) -> KafkaError? {
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &buffer, buffer.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(code: code, context: context, message: cBufferText(buffer))
    }
}

/// What C callbacks need: a logger, pending deliveries, and the consumer's assignment.
final class ClientContext: Sendable {
    let logger: Logger
    let deliveries = DeliveryTracker()
    let assignment = Mutex<Set<KafkaTopicPartition>>([])

    init(logger: Logger) { self.logger = logger }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientContext? {
        opaque.map { Unmanaged<ClientContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

private let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, buffer in
    guard let handle, let context = ClientContext.from(rd_kafka_opaque(handle)) else { return }
    let text = buffer.map { String(cString: $0) } ?? ""
    let facility = facility.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level =
        switch level {
        case 0...3: .error
        case 4: .warning
        case 5, 6: .info
        default: .debug
        }
    context.logger.log(level: swiftLevel, "\(text)", metadata: ["rdkafka": "\(facility)"])
}

private let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, code, reason, opaque in
    guard let context = ClientContext.from(opaque) else { return }
    let error = rd_kafka_resp_err_t(rawValue: code)
    let name = String(cString: rd_kafka_err2name(error))
    // Transport errors while a broker is down are expected and retried by librdkafka.
    let level: Logger.Level = error == RD_KAFKA_RESP_ERR__FATAL ? .critical : .warning
    context.logger.log(level: level, "kafka client error", metadata: ["error": "\(name)", "reason": "\(reason.map { String(cString: $0) } ?? "")"])
}

/// Converts librdkafka headers into Swift values.
func readHeaders(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
    var headers: OpaquePointer?
    guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return [] }
    var result: [KafkaHeader] = []
    var index = 0
    var name: UnsafePointer<CChar>?
    var value: UnsafeRawPointer?
    var size = 0
    while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
        let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
        result.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
        index += 1
    }
    return result
}

/// Runs a blocking librdkafka call off the cooperative pool.
func runBlocking<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        queue.async { continuation.resume(with: Result(catching: body)) }
    }
}

/// The text of a NUL-terminated C buffer librdkafka wrote an error into.
func cBufferText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
