import Foundation

/// Where a task stands (docs/adr/0003). Stored in `tasks.state`; every change is a task event.
public enum TaskState: String, Sendable, Hashable, Codable, CaseIterable {
    case assigned
    case delivered
    case acknowledged
    case inProgress = "in_progress"
    case infoRequested = "info_requested"
    case resolved
    case declined
    case transferred
    case closed

    /// The agency's duty is discharged (a declined task still waits for the coordinator to reroute or close it,
    /// but it no longer waits on the agency).
    public var isTerminal: Bool { [.resolved, .declined, .transferred, .closed].contains(self) }
}

/// How an agency resolved a task.
public enum TaskOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case substantiated
    case partlySubstantiated = "partly_substantiated"
    case unsubstantiated
    case referredToInvestigation = "referred_to_investigation"
}

/// The actions of the lifecycle, by the names the HTTP paths and Kafka event types use.
public enum TaskActionName: String, Sendable, Hashable, Codable, CaseIterable {
    case acknowledge
    case start
    case requestInfo = "request-info"
    case answerInfo = "answer-info"
    case extend
    case transfer
    case decline
    case resolve
    case reopen
    case close
}

/// An action with what it carries. Field rules (lengths, ranges) are checked by `TaskLifecycle.apply`.
public enum TaskAction: Sendable, Hashable {
    case acknowledge(note: String?)
    case start
    case requestInfo(questions: String, documentsWanted: [String])
    case answerInfo(answer: String)
    case extend(days: Int, reason: String)
    case transfer(to: PartyCode, reason: String)
    case decline(reason: String)
    case resolve(outcome: TaskOutcome, summary: String)
    case reopen(reason: String)
    case close(reason: String)

    public var name: TaskActionName {
        switch self {
        case .acknowledge: .acknowledge
        case .start: .start
        case .requestInfo: .requestInfo
        case .answerInfo: .answerInfo
        case .extend: .extend
        case .transfer: .transfer
        case .decline: .decline
        case .resolve: .resolve
        case .reopen: .reopen
        case .close: .close
        }
    }
}

/// Who acts on a task.
public enum TaskActor: Sendable, Hashable {
    /// An officer of an agency; acts only on that agency's tasks.
    case agency(PartyCode)
    /// The City Inspectorate's coordinator.
    case coordinator
    /// A liaison of the finding's newsroom (answers information requests).
    case newsroom(PartyCode)

    /// Who `principal` is to the lifecycle; nil for a role that takes no part in it (auditor, admin).
    public init?(_ principal: Principal) {
        switch principal.role {
        case .agency:
            guard let agency = principal.agency else { return nil }
            self = .agency(agency)
        case .coordinator: self = .coordinator
        case .liaison:
            guard let newsroom = principal.newsroom else { return nil }
            self = .newsroom(newsroom)
        case .auditor, .admin: return nil
        }
    }
}

/// The task as the rules need to see it.
public struct TaskSnapshot: Sendable, Hashable {
    public var state: TaskState
    public var agency: PartyCode
    public var newsroom: PartyCode
    /// Extensions granted so far.
    public var extensions: Int

    public init(state: TaskState, agency: PartyCode, newsroom: PartyCode, extensions: Int = 0) {
        self.state = state
        self.agency = agency
        self.newsroom = newsroom
        self.extensions = extensions
    }
}

/// Limits that come from the deadline policy (docs/adr/0004).
public struct LifecyclePolicy: Sendable, Hashable {
    /// Extensions allowed per task (Law on Denunciations 2018 Art. 30: once, twice for especially complex cases).
    public var maximumExtensions: Int
    /// The longest single extension, in days.
    public var maximumExtensionDays: Int

    public init(maximumExtensions: Int = 2, maximumExtensionDays: Int = 30) {
        self.maximumExtensions = maximumExtensions
        self.maximumExtensionDays = maximumExtensionDays
    }

    public static let `default` = LifecyclePolicy()
}

/// What an accepted action does: the new state, the event to append, and for a transfer the agency
/// that receives a new task.
public struct TaskTransition: Sendable, Hashable {
    public var from: TaskState
    public var to: TaskState
    /// The task event's kind, e.g. `acknowledged`, `info_requested`.
    public var eventKind: String
    public var extensions: Int
    public var opensTaskFor: PartyCode?

    public init(from: TaskState, to: TaskState, eventKind: String, extensions: Int, opensTaskFor: PartyCode? = nil) {
        self.from = from
        self.to = to
        self.eventKind = eventKind
        self.extensions = extensions
        self.opensTaskFor = opensTaskFor
    }
}

/// Why an action was refused.
public enum TaskRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The action is not possible in the current state; `allowed` lists what the actor could do instead.
    case illegal(state: TaskState, action: TaskActionName, allowed: [TaskActionName])
    /// The actor may never take this action on this task.
    case forbidden(action: TaskActionName, reason: String)
    /// The action's fields break a rule.
    case invalid(ValidationFailure)

    public var description: String {
        switch self {
        case .illegal(let state, let action, let allowed):
            let options = allowed.isEmpty ? "none" : allowed.map(\.rawValue).joined(separator: ", ")
            return "cannot \(action.rawValue) a task that is \(state.rawValue); allowed now: \(options)"
        case .forbidden(let action, let reason):
            return "cannot \(action.rawValue): \(reason)"
        case .invalid(let failure):
            return failure.description
        }
    }
}

/// The task lifecycle's rules: one pure function shared by the HTTP API and the Kafka response consumer.
public enum TaskLifecycle {
    /// From which states each action may be taken.
    public static let sources: [TaskActionName: Set<TaskState>] = [
        .acknowledge: [.assigned, .delivered],
        .start: [.acknowledged],
        .requestInfo: [.acknowledged, .inProgress],
        .answerInfo: [.infoRequested],
        .extend: [.acknowledged, .inProgress, .infoRequested],
        .transfer: [.assigned, .delivered, .acknowledged, .inProgress],
        .decline: [.assigned, .delivered, .acknowledged, .inProgress],
        .resolve: [.acknowledged, .inProgress],
        .reopen: [.resolved, .declined, .closed],
        .close: [.assigned, .delivered, .acknowledged, .inProgress, .infoRequested, .declined],
    ]

    /// Who may take each action: the owning agency, the coordinator, or the finding's newsroom.
    static func permits(_ actor: TaskActor, _ action: TaskActionName, on task: TaskSnapshot) -> String? {
        switch (action, actor) {
        case (.reopen, .coordinator), (.close, .coordinator), (.transfer, .coordinator):
            // The coordinator's transfer is a reassignment.
            return nil
        case (.reopen, _), (.close, _):
            return "only the coordinator reopens or closes tasks"
        case (.answerInfo, .newsroom(let newsroom)):
            return newsroom == task.newsroom ? nil : "only the finding's newsroom answers its information requests"
        case (.answerInfo, _):
            return "information requests are answered by the finding's newsroom"
        case (_, .agency(let agency)):
            return agency == task.agency ? nil : "the task belongs to \(task.agency)"
        case (_, .coordinator), (_, .newsroom):
            return "only the agency holding the task does this"
        }
    }

    /// The actions `actor` could take on `task` now.
    public static func allowedActions(for task: TaskSnapshot, by actor: TaskActor) -> [TaskActionName] {
        TaskActionName.allCases.filter { action in
            sources[action, default: []].contains(task.state) && permits(actor, action, on: task) == nil
        }
    }

    /// Applies `action` by `actor` to `task`: the transition, or why not.
    public static func apply(_ action: TaskAction, by actor: TaskActor, to task: TaskSnapshot, policy: LifecyclePolicy = .default)
        -> Result<TaskTransition, TaskRejection>
    {
        let name = action.name
        if let reason = permits(actor, name, on: task) { return .failure(.forbidden(action: name, reason: reason)) }
        guard sources[name, default: []].contains(task.state) else {
            return .failure(.illegal(state: task.state, action: name, allowed: allowedActions(for: task, by: actor)))
        }
        var errors: [FieldError] = []
        func requireText(_ field: String, _ text: String, maximum: Int = 20_000) {
            if let problem = TextRules.problem(text, length: 1...maximum, multiline: true, blankAllowed: false) {
                errors.append(FieldError(field, problem))
            }
        }
        var transition = TaskTransition(from: task.state, to: task.state, eventKind: "", extensions: task.extensions)
        switch action {
        case .acknowledge(let note):
            if let note, let problem = TextRules.problem(note, length: 0...2000, multiline: true) { errors.append(FieldError("note", problem)) }
            transition.to = .acknowledged
            transition.eventKind = "acknowledged"
        case .start:
            transition.to = .inProgress
            transition.eventKind = "started"
        case .requestInfo(let questions, let documentsWanted):
            requireText("questions", questions)
            if documentsWanted.count > 50 { errors.append(FieldError("documents_wanted", "must list at most 50 items")) }
            for (index, item) in documentsWanted.enumerated() {
                if let problem = TextRules.problem(item, length: 1...500, multiline: false, blankAllowed: false) {
                    errors.append(FieldError("documents_wanted[\(index)]", problem))
                }
            }
            transition.to = .infoRequested
            transition.eventKind = "info_requested"
        case .answerInfo(let answer):
            requireText("answer", answer)
            transition.to = .inProgress
            transition.eventKind = "info_answered"
        case .extend(let days, let reason):
            requireText("reason", reason, maximum: 2000)
            if !(1...policy.maximumExtensionDays).contains(days) {
                errors.append(FieldError("days", "must be from 1 to \(policy.maximumExtensionDays)"))
            }
            if task.extensions >= policy.maximumExtensions {
                errors.append(FieldError("days", "the task was already extended \(task.extensions) times, the most the policy allows"))
            }
            transition.eventKind = "extended"
            transition.extensions = task.extensions + 1
        case .transfer(let target, let reason):
            requireText("reason", reason, maximum: 2000)
            if target == task.agency { errors.append(FieldError("agency", "is the agency that already holds the task")) }
            transition.to = .transferred
            transition.eventKind = "transferred"
            transition.opensTaskFor = target
        case .decline(let reason):
            requireText("reason", reason, maximum: 2000)
            transition.to = .declined
            transition.eventKind = "declined"
        case .resolve(_, let summary):
            requireText("summary", summary)
            transition.to = .resolved
            transition.eventKind = "resolved"
        case .reopen(let reason):
            requireText("reason", reason, maximum: 2000)
            transition.to = .inProgress
            transition.eventKind = "reopened"
        case .close(let reason):
            requireText("reason", reason, maximum: 2000)
            transition.to = .closed
            transition.eventKind = "closed"
        }
        if !errors.isEmpty { return .failure(.invalid(ValidationFailure(errors))) }
        return .success(transition)
    }
}

extension TaskAction {
    /// The fields each action's JSON carries (over HTTP as the body, over Kafka as the event's data).
    public static func fields(of name: TaskActionName) -> Set<String> {
        switch name {
        case .acknowledge: ["note"]
        case .start: []
        case .requestInfo: ["questions", "documents_wanted"]
        case .answerInfo: ["answer"]
        case .extend: ["days", "reason"]
        case .transfer: ["agency", "reason"]
        case .resolve: ["outcome", "summary"]
        case .decline, .reopen, .close: ["reason"]
        }
    }

    /// Reads an action from its JSON object, naming every bad field. `alsoAllowed` lists fields the
    /// carrier adds (a Kafka response's `task_id`). Rules that depend on the task are `TaskLifecycle`'s.
    public static func parse(_ name: TaskActionName, _ value: JSONValue, alsoAllowed: Set<String> = []) throws(ValidationFailure) -> TaskAction {
        var reader = FieldReader(object: value, allowed: fields(of: name).union(alsoAllowed))
        let action: TaskAction?
        switch name {
        case .acknowledge:
            action = .acknowledge(note: reader.text("note", required: false, length: 1...2000, multiline: true))
        case .start:
            action = .start
        case .requestInfo:
            let questions = reader.string("questions")
            var wanted: [String] = []
            for (index, item) in (reader.array("documents_wanted") ?? []).enumerated() {
                guard case .string(let text) = item else {
                    reader.fail("documents_wanted[\(index)]", "must be a string")
                    continue
                }
                wanted.append(text)
            }
            action = questions.map { .requestInfo(questions: $0, documentsWanted: wanted) }
        case .answerInfo:
            action = reader.string("answer").map { .answerInfo(answer: $0) }
        case .extend:
            let days = reader.integer("days")
            let reason = reader.string("reason")
            action = days.flatMap { days in reason.map { .extend(days: days, reason: $0) } }
        case .transfer:
            let agency = reader.code("agency")
            let reason = reader.string("reason")
            action = agency.flatMap { agency in reason.map { .transfer(to: agency, reason: $0) } }
        case .resolve:
            let outcome = reader.string("outcome").flatMap { text -> TaskOutcome? in
                guard let outcome = TaskOutcome(rawValue: text) else {
                    reader.fail("outcome", "must be one of: \(TaskOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
                    return nil
                }
                return outcome
            }
            let summary = reader.string("summary")
            action = outcome.flatMap { outcome in summary.map { .resolve(outcome: outcome, summary: $0) } }
        case .decline:
            action = reader.string("reason").map { .decline(reason: $0) }
        case .reopen:
            action = reader.string("reason").map { .reopen(reason: $0) }
        case .close:
            action = reader.string("reason").map { .close(reason: $0) }
        }
        guard reader.errors.isEmpty, let action else { throw ValidationFailure(reader.errors) }
        return action
    }

    /// The action's JSON object, as `parse` reads it: `parse(name, .object(fields))` gives the action back.
    public var fields: [String: JSONValue] {
        switch self {
        case .acknowledge(let note): note.map { ["note": .string($0)] } ?? [:]
        case .start: [:]
        case .requestInfo(let questions, let wanted): ["questions": .string(questions), "documents_wanted": .array(wanted.map(JSONValue.string))]
        case .answerInfo(let answer): ["answer": .string(answer)]
        case .extend(let days, let reason): ["days": .number(Double(days)), "reason": .string(reason)]
        case .transfer(let agency, let reason): ["agency": .string(agency.rawValue), "reason": .string(reason)]
        case .decline(let reason), .reopen(let reason), .close(let reason): ["reason": .string(reason)]
        case .resolve(let outcome, let summary): ["outcome": .string(outcome.rawValue), "summary": .string(summary)]
        }
    }

    /// What the task's timeline records of the action: its fields, a transfer's new holder under `to`.
    public var timelineDetail: [String: JSONValue] {
        var detail = fields
        if let agency = detail.removeValue(forKey: "agency") { detail["to"] = agency }
        return detail
    }

    /// The action's free text, for the newsroom's `finding.update`: a resolution's summary, a reason, a note,
    /// the questions or the answer; empty for `start`.
    public var text: String {
        switch self {
        case .resolve(_, let summary): summary
        case .transfer(_, let reason), .decline(let reason), .close(let reason), .reopen(let reason), .extend(_, let reason): reason
        case .acknowledge(let note): note ?? ""
        case .requestInfo(let questions, _): questions
        case .answerInfo(let answer): answer
        case .start: ""
        }
    }

    /// The resolution's outcome, for `resolve`.
    public var outcome: TaskOutcome? { if case .resolve(let outcome, _) = self { outcome } else { nil } }
}

extension TaskActor {
    /// Agencies see their own tasks, the newsroom the tasks on its findings, the coordinator all.
    public func canSee(_ task: TaskSnapshot) -> Bool {
        switch self {
        case .agency(let agency): agency == task.agency
        case .newsroom(let newsroom): newsroom == task.newsroom
        case .coordinator: true
        }
    }
}
