import CRdKafka

/// An error from librdkafka or from this module, with the operation it came from.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    /// librdkafka's `rd_kafka_resp_err_t` code (negative codes are client-side).
    public var code: Int32
    /// The code's symbolic name, e.g. `_MSG_TIMED_OUT` or `TOPIC_AUTHORIZATION_FAILED`.
    public var name: String
    public var message: String
    /// What was being done: `produce to tipwire.tasks.so-nnmt`, `create topic …`.
    public var context: String

    init(code: rd_kafka_resp_err_t, context: String, message: String? = nil) {
        self.code = code.rawValue
        self.name = String(cString: rd_kafka_err2name(code))
        self.message = message ?? String(cString: rd_kafka_err2str(code))
        self.context = context
    }

    init(configuration message: String, context: String) {
        self.code = RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue
        self.name = "_INVALID_ARG"
        self.message = message
        self.context = context
    }

    public static func closed(_ context: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY, context: context, message: "the client is shut down")
    }

    public var isTimeout: Bool { code == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue || code == RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue }

    public var description: String { "KafkaError(\(name)) \(context): \(message)" }
}

/// Kafka protocol request kinds, for the embedded broker's error injection.
public enum KafkaAPIKey: Int16, Sendable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case syncGroup = 14
    case initProducerID = 22
}

/// Broker-side error codes commonly injected in tests.
public enum KafkaErrorCode: Int32, Sendable {
    case notLeaderForPartition = 6
    case requestTimedOut = 7
    case notEnoughReplicas = 19
    case topicAuthorizationFailed = 29
    case notCoordinator = 16
    case coordinatorNotAvailable = 15
}
