import Foundation
import Kafka
import Logging
import Metrics
import ServiceLifecycle
import TipwireCore
import TipwireStore

public struct ResponseConsumerConfiguration: Sendable {
    public var consumer: KafkaConsumerConfiguration
    public var producer: KafkaProducerConfiguration
    /// The pause before retrying a message that failed for a passing reason (database or broker away).
    public var retryBackoff: Duration
    /// Responses applied per transaction, at most.
    public var batchSize: Int

    public init(
        consumer: KafkaConsumerConfiguration, producer: KafkaProducerConfiguration, retryBackoff: Duration = .milliseconds(500), batchSize: Int = 500
    ) {
        self.consumer = consumer
        self.producer = producer
        self.retryBackoff = retryBackoff
        self.batchSize = max(1, batchSize)
    }
}

/// Why a response went to `tipwire.dlq.responses.<agency>` (the `tw_reason` header).
public enum DeadLetterReason: String, Sendable, CaseIterable {
    case missingAttributes = "missing-attributes"
    /// `ce_source` names another agency than the topic's.
    case sourceMismatch = "source-mismatch"
    case unknownType = "unknown-type"
    case malformedJSON = "malformed-json"
    case schemaViolation = "schema-violation"
    case unknownTask = "unknown-task"
    case unknownRequest = "unknown-request"
    case illegalTransition = "illegal-transition"
    case conflict
    case refusedByDatabase = "refused-by-database"
}

/// Applies the responses agencies produce to `tipwire.responses.<agency>` (docs/architecture.md).
///
/// Each message is validated, authorised (the topic's agency must hold the task) and applied through
/// `TaskLifecycle` with its `ce_id` record, the messages of one poll sharing a transaction; offsets are
/// stored only after that commit and after bad messages' copies are acknowledged by the dead-letter topic. A message that fails
/// for a passing reason (database or broker away) is retried, never skipped; a bad one never stalls
/// its partition.
public final class ResponseConsumer: Service, Sendable {

    let stores: TipwireStores
    let configuration: ResponseConsumerConfiguration
    let topics: TopicProvisioner
    let logger: Logger
    private let applied = Counter(label: "tipwire_responses_applied_total")
    private let duplicates = Counter(label: "tipwire_responses_duplicate_total")
    /// One counter per reason, made up front so each is exported from 0 and an alert sees the first letter.
    private let deadLettered = Dictionary(
        uniqueKeysWithValues: DeadLetterReason.allCases.map {
            ($0, Counter(label: "tipwire_responses_dead_lettered_total", dimensions: [("reason", $0.rawValue)]))
        })

    public init(
        stores: TipwireStores, configuration: ResponseConsumerConfiguration, topics: TopicProvisioner,
        logger: Logger = Logger(label: "tipwire.responses")
    ) {
        self.stores = stores
        self.configuration = configuration
        self.topics = topics
        self.logger = logger
    }

    /// Runs as the pipeline (`DatabaseScope.system`): responses from every agency share its transactions.
    public func run() async throws {
        do {
            try await DatabaseScope.system { try await cancelWhenGracefulShutdown { try await self.consume() } }
        } catch is CancellationError {}
    }

    /// Creates the topics, then applies responses until cancelled (a graceful shutdown, at any point).
    private func consume() async throws {
        // Every agency's response and dead-letter topics exist before anyone subscribes, as does the operators' one.
        let codes = try await retrying("list agencies") { try await self.stores.database.agencyCodes() }
        let topicNames = codes.map(TopicName.responses) + codes.map(TopicName.responseDeadLetters) + [TopicName.unattributedDeadLetters]
        try await retrying("create the response topics") { try await self.topics.ensure(topicNames) }
        let consumer = try KafkaConsumer(configuration: configuration.consumer, logger: logger)
        let producer = try KafkaProducer(configuration: configuration.producer, logger: logger)
        try consumer.subscribe(topics: [TopicName.allResponsesPattern])
        logger.info("response consumer subscribed", metadata: ["group": "\(configuration.consumer.groupID)"])
        do {
            for try await batch in consumer.batches(limit: configuration.batchSize) {
                try await retrying("apply responses") { try await self.handle(batch, producer: producer) }
                try consumer.storeOffsets(batch)
            }
        } catch is CancellationError {}
        await consumer.close()
        await producer.shutdown(timeout: .seconds(10))
    }

    /// Applies a batch of messages (task responses in one shared transaction) and dead-letters the rest.
    /// Throws only for passing failures; the whole batch is then retried (applied ones are skipped by ce_id).
    func handle(_ batch: [KafkaMessage], producer: KafkaProducer) async throws {
        var responses: [(message: KafkaMessage, response: AgencyResponse)] = []
        var answers: [(message: KafkaMessage, answer: AgencyAnswer)] = []
        var letters: [(message: KafkaMessage, letter: Letter)] = []
        for message in batch {
            switch Self.parse(message) {
            case .success(.task(let response)): responses.append((message, response))
            case .success(.answer(let answer)): answers.append((message, answer))
            case .failure(let letter): letters.append((message, letter))
            }
        }
        let applied = try await stores.tasks.apply(responses.map(\.response))
        var outcomes = zip(responses, applied).map { pair in
            (pair.0.message, pair.1, "task \(pair.0.response.taskID.lowercased)", pair.0.response.agency)
        }
        for (message, answer) in answers {
            outcomes.append((message, try await stores.requests.answer(answer), "request \(answer.requestID.lowercased)", answer.agency))
        }
        for (message, outcome, subject, agency) in outcomes {
            switch outcome {
            case .applied: self.applied.increment()
            case .duplicate: duplicates.increment()
            case .unknownTask: letters.append((message, Letter(.unknownTask, "\(agency) holds no \(subject)")))
            case .unknownRequest: letters.append((message, Letter(.unknownRequest, "no open question to \(agency) is \(subject)")))
            case .rejected(let rejection):
                if case .illegal = rejection {
                    letters.append((message, Letter(.illegalTransition, rejection.description)))
                } else {
                    letters.append((message, Letter(.schemaViolation, rejection.description)))
                }
            case .conflict(let detail): letters.append((message, Letter(.conflict, detail)))
            case .refused(let detail): letters.append((message, Letter(.refusedByDatabase, detail)))
            }
        }
        for (message, letter) in letters.sorted(by: { ($0.message.partition, $0.message.offset) < ($1.message.partition, $1.message.offset) }) {
            try await deadLetter(message, letter, producer: producer)
        }
    }

    enum Parsed {
        case task(AgencyResponse)
        case answer(AgencyAnswer)
    }

    struct Letter: Error {
        let reason: DeadLetterReason
        let detail: String
        init(_ reason: DeadLetterReason, _ detail: String) {
            self.reason = reason
            self.detail = detail
        }
    }

    /// Reads a CloudEvents binary-mode response: the agency from the topic, the action from `ce_type`,
    /// the task and the action's fields from the JSON data.
    static func parse(_ message: KafkaMessage) -> Result<Parsed, Letter> {
        guard let agency = TopicName.agency(ofResponses: message.topic) else {
            return .failure(Letter(.missingAttributes, "topic \(message.topic) is not tipwire.responses.<agency>"))
        }
        guard let event = message.cloudEvent, TextRules.problem(event.id, length: 1...200, multiline: false) == nil else {
            return .failure(
                Letter(.missingAttributes, "ce_id (1 to 200 characters), ce_source and ce_type headers are required (CloudEvents binary mode)"))
        }
        let (id, type, source) = (event.id, event.type, event.source)
        // The topic says which agency sends; the event must say the same, so one agency's credentials
        // cannot pass a response off as another's.
        guard source == "/agencies/\(agency)" else {
            return .failure(
                Letter(.sourceMismatch, "ce_source \(source.prefix(100)) does not match the topic's agency: expected /agencies/\(agency)"))
        }
        guard type == ResponseTypes.answer || ResponseTypes.byType[type] != nil else {
            let known = (ResponseTypes.byType.keys + [ResponseTypes.answer]).sorted().joined(separator: ", ")
            return .failure(Letter(.unknownType, "ce_type \(type) is not one of: \(known)"))
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(message.value))
        } catch {
            return .failure(Letter(.malformedJSON, "the value is not JSON"))
        }
        guard let name = ResponseTypes.byType[type] else {
            var reader = FieldReader(object: value, allowed: ["request_id", "answer"])
            let request = reader.string("request_id")
            let answer = reader.text("answer", length: 1...20_000, multiline: true)
            guard reader.errors.isEmpty, let request, let requestID = UUID(uuidString: request), let answer else {
                let problems = reader.errors.isEmpty ? "request_id: must be a UUID" : ValidationFailure(reader.errors).description
                return .failure(Letter(.schemaViolation, problems))
            }
            return .success(
                .answer(
                    AgencyAnswer(
                        ceID: id, agency: agency, requestID: requestID, answer: answer, topic: message.topic, partition: message.partition,
                        offset: message.offset)))
        }
        var taskID: UUID?
        if case .object(let fields) = value, case .string(let text)? = fields["task_id"] { taskID = UUID(uuidString: text) }
        do {
            let action = try TaskAction.parse(name, value, alsoAllowed: ["task_id"])
            guard let taskID else { return .failure(Letter(.schemaViolation, "task_id: is required (the task's id, a UUID)")) }
            return .success(
                .task(
                    AgencyResponse(
                        ceID: id, ceType: type, agency: agency, taskID: taskID, action: action, topic: message.topic, partition: message.partition,
                        offset: message.offset)))
        } catch {
            let missing = taskID == nil ? "; task_id: is required (the task's id, a UUID)" : ""
            return .failure(Letter(.schemaViolation, error.description + missing))
        }
    }

    /// The agency's own dead-letter topic, or the operators' when the topic names no agency.
    static func deadLetterTopic(for message: KafkaMessage) -> String {
        TopicName.agency(ofResponses: message.topic).map(TopicName.responseDeadLetters) ?? TopicName.unattributedDeadLetters
    }

    /// Copies the message to the dead-letter topic with why and where it came from; returns once Kafka has it.
    private func deadLetter(_ message: KafkaMessage, _ letter: Letter, producer: KafkaProducer) async throws {
        let headers =
            message.headers + [
                KafkaHeader(key: "tw_reason", value: letter.reason.rawValue),
                KafkaHeader(key: "tw_detail", value: String(letter.detail.prefix(1000))),
                KafkaHeader(key: "tw_original_topic", value: message.topic),
                KafkaHeader(key: "tw_original_partition", value: String(message.partition)),
                KafkaHeader(key: "tw_original_offset", value: String(message.offset)),
            ]
        // Stopping while the brokers are away fails the copy at once; the offset is not stored, so the
        // message is read, and dead-lettered, again after a restart.
        let reports = try await producer.sendStoppingOnCancel([
            KafkaOutgoingMessage(topic: Self.deadLetterTopic(for: message), key: message.key, value: message.value, headers: headers)
        ])
        _ = try reports[0].get()
        deadLettered[letter.reason]?.increment()
        logger.warning(
            "response dead-lettered",
            metadata: [
                "reason": "\(letter.reason.rawValue)", "detail": "\(letter.detail)", "topic": "\(message.topic)", "partition": "\(message.partition)",
                "offset": "\(message.offset)",
            ])
    }

    /// Runs `body` until it succeeds; waits between tries. Only cancellation ends it early.
    private func retrying<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        while true {
            do {
                return try await body()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("\(what) failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: configuration.retryBackoff)
            }
        }
    }
}
