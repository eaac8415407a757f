import ArgumentParser
import Foundation
import Kafka
import Logging
import TipwireCommandLine
import TipwireCore
import TipwirePipeline

/// The reference agency client: what an agency's own integration does, on the command line.
struct Agency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Act as an agency over Kafka: listen for tasks, respond to them.",
        discussion: """
            An agency's own client does the same with any Kafka library; docs/agency-integration.md explains
            the topics, headers and schemas.

            Examples:
              tipwire agency listen --agency so-nnmt
              tipwire agency listen --agency so-nnmt --json
              tipwire agency respond 0b6f…-task-id acknowledge --agency so-nnmt --note "Đã tiếp nhận"
              tipwire agency respond 0b6f… request-info --agency so-nnmt --questions "Đề nghị cung cấp biên bản" --want "biên bản gốc"
              tipwire agency respond 0b6f… resolve --agency so-nnmt --outcome substantiated --summary "Đã xử lý"
            """,
        subcommands: [Listen.self, Respond.self])

    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print new tasks and requests from tipwire.tasks.<agency> (consumer group agency-<agency>).",
            discussion: """
                Offsets are committed as events are printed, so a restarted listener continues where it stopped;
                an event delivered twice (the pipeline delivers at least once) is printed once, by ce_id.
                Stop with Ctrl-C.
                """)

        @Option(help: "The agency's code, e.g. so-nnmt.")
        var agency: String

        @Flag(help: "JSON lines (topic, partition, offset, ce_id, ce_type, data) instead of a table.")
        var json = false

        @OptionGroup var kafka: KafkaOptions

        func run() async throws {
            guard let code = PartyCode(rawValue: agency) else { throw ValidationError("--agency: \(PartyCode.validate(agency) ?? "invalid")") }
            let endpoint = try kafka.endpoint()
            var logger = Logger(label: "tipwire.agency")
            logger.logLevel = .error
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(
                    bootstrapServers: endpoint.brokers, groupID: ConsumerGroupName.agency(code), clientID: "tipwire-agency-\(code)",
                    settings: endpoint.settings),
                logger: logger)
            try consumer.subscribe(topics: [TopicName.tasks(code)])
            if !json {
                FileHandle.standardError.write(
                    Data("listening on \(TopicName.tasks(code)) as consumer group \(ConsumerGroupName.agency(code)); Ctrl-C stops\n".utf8))
                emit(row(["EVENT", "TASK", "FINDING", "DUE", "DETAIL"]))
            }
            var seen = Set<String>()
            let stop = Task {
                for try await message in consumer.messages {
                    let event = message.cloudEvent
                    let id = event?.id ?? "\(message.partition)/\(message.offset)"
                    if seen.insert(id).inserted { try show(message, id: id, type: event?.type ?? "?") }
                    try consumer.storeOffset(message)
                }
            }
            try await withTaskCancellationHandler {
                try await stop.value
            } onCancel: {
                stop.cancel()
            }
            await consumer.close()
        }

        func show(_ message: KafkaMessage, id: String, type: String) throws {
            if json {
                let data = (try? JSONSerialization.jsonObject(with: Data(message.value))) ?? message.valueString
                let line: [String: Any] = [
                    "topic": message.topic, "partition": message.partition, "offset": message.offset, "ce_id": id, "ce_type": type, "data": data,
                ]
                emit(
                    String(
                        decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
                return
            }
            let object = (try? JSONSerialization.jsonObject(with: Data(message.value))) as? [String: Any] ?? [:]
            switch type {
            case EventType.taskAssigned:
                let task = object["task"] as? [String: Any] ?? [:]
                let finding = object["finding"] as? [String: Any] ?? [:]
                let deadline = object["deadline"] as? [String: Any] ?? [:]
                let documents = (object["documents"] as? [Any])?.count ?? 0
                emit(
                    row([
                        "task.assigned", task["id"] as? String ?? "?", finding["title"] as? String ?? "?", deadline["deliver_by"] as? String ?? "",
                        "\(finding["category"] as? String ?? "?") in \(finding["jurisdiction"] as? String ?? "?"), \(documents) document(s)",
                    ]))
            case EventType.requestCreated, EventType.requestAnswered:
                emit(
                    row([
                        type == EventType.requestCreated ? "question" : "answer", object["task_id"] as? String ?? "?",
                        object["finding_title"] as? String ?? "?",
                        object["due_at"] as? String ?? "",
                        (type == EventType.requestCreated ? object["questions"] : object["answer"]) as? String ?? "",
                    ]))
            default:
                emit(row([type, "", "", "", message.valueString]))
            }
        }

        /// Writes a line unbuffered, so each event shows as it arrives even in a pipe or a file.
        func emit(_ line: String) {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }

        func row(_ columns: [String]) -> String {
            let widths = [14, 36, 40, 24]
            return zip(columns, widths + [0]).map { text, width in
                width == 0 ? text : String(text.prefix(width)).padding(toLength: width, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    struct Respond: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a response for a task to tipwire.responses.<agency> and wait for Kafka's acknowledgement.",
            discussion: """
                ACTION is one of: acknowledge, start, request-info, extend, transfer, decline, resolve. The response is
                checked against the same rules tipwire applies before it is sent; tipwire then applies it (or
                dead-letters it, with the reason, on tipwire.dlq.responses.<agency>). Prints the response's ce_id; pass it
                again with --id to retry safely (a repeated ce_id is applied once).
                """)

        @Argument(help: "The task's id.")
        var task: String

        @Argument(help: "acknowledge, start, request-info, extend, transfer, decline or resolve.")
        var action: String

        @Option(help: "The agency's code, e.g. so-nnmt.")
        var agency: String

        @Option(parsing: .unconditional, help: "acknowledge: a note for the timeline.") var note: String?
        @Option(parsing: .unconditional, help: "request-info: what the newsroom should answer.") var questions: String?
        @Option(name: .customLong("want"), parsing: .unconditionalSingleValue, help: "request-info: a document wanted (repeatable).")
        var wanted: [String] = []
        @Option(help: "extend: days to add (at most 30).") var days: Int?
        @Option(help: "transfer: the agency that takes the task over.") var to: String?
        @Option(parsing: .unconditional, help: "extend, transfer, decline: why.") var reason: String?
        @Option(help: "resolve: substantiated, partly_substantiated, unsubstantiated or referred_to_investigation.") var outcome: String?
        @Option(parsing: .unconditional, help: "resolve: what was found and done.") var summary: String?
        @Option(help: "The response's ce_id (default: a new UUID). Reuse it to retry.") var id: String?

        @OptionGroup var kafka: KafkaOptions

        func run() async throws {
            guard let code = PartyCode(rawValue: agency) else { throw ValidationError("--agency: \(PartyCode.validate(agency) ?? "invalid")") }
            guard let taskID = UUID(uuidString: task) else { throw ValidationError("'\(task)' is not a task id (a UUID)") }
            guard let name = TaskActionName(rawValue: action), ResponseTypes.agencyActions.contains(name) else {
                throw ValidationError("ACTION must be one of: \(ResponseTypes.agencyActions.map(\.rawValue).joined(separator: ", "))")
            }
            var fields: [String: JSONValue] = [:]
            if let note { fields["note"] = .string(note) }
            if let questions { fields["questions"] = .string(questions) }
            if !wanted.isEmpty { fields["documents_wanted"] = .array(wanted.map(JSONValue.string)) }
            if let days { fields["days"] = .number(Double(days)) }
            if let to { fields["agency"] = .string(to) }
            if let reason { fields["reason"] = .string(reason) }
            if let outcome { fields["outcome"] = .string(outcome) }
            if let summary { fields["summary"] = .string(summary) }
            let parsed: TaskAction
            do {
                parsed = try TaskAction.parse(name, .object(fields), alsoAllowed: ["task_id"])
            } catch {
                let flags = error.errors.map { "\(Self.flag(for: $0.field)): \($0.reason)" }.joined(separator: "; ")
                throw ValidationError("\(name.rawValue): \(flags)")
            }
            let ceID = id ?? UUID.timeOrdered().uuidString.lowercased()
            var logger = Logger(label: "tipwire.agency")
            logger.logLevel = .error
            let endpoint = try kafka.endpoint()
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(
                    bootstrapServers: endpoint.brokers, clientID: "tipwire-agency-\(code)", settings: endpoint.settings),
                logger: logger)
            let message = KafkaOutgoingMessage(
                topic: TopicName.responses(code), key: Array(taskID.lowercased.utf8),
                data: try TipwireJSON.encode(parsed.fields.merging(["task_id": .string(taskID.lowercased)]) { own, _ in own }),
                attributes: CloudEventAttributes(
                    id: ceID, source: "/agencies/\(code)", type: ResponseTypes.type(of: name), time: Date(), subject: "tasks/\(taskID.lowercased)"))
            let report = try await producer.send(message)
            await producer.shutdown(timeout: .seconds(5))
            print(ceID)
            FileHandle.standardError.write(
                Data("sent \(ResponseTypes.type(of: name)) to \(report.topic) [\(report.partition)] at offset \(report.offset)\n".utf8))
        }

        static func flag(for field: String) -> String {
            switch field {
            case "agency": "--to"
            case "documents_wanted": "--want"
            default: "--" + field.replacingOccurrences(of: "_", with: "-")
            }
        }
    }
}
