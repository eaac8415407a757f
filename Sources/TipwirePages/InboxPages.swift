import Foundation
import TipwireCore
import TipwireStore

/// A field of a task action's form: the action's JSON field it fills, how it is entered, and what was
/// entered before when the form comes back with errors.
struct ActionField {
    enum Entry { case text, number, lines, choice([String]) }

    var name: String
    var entry: Entry
    var required: Bool

    /// The fields each action the agency takes asks for, in the order of `TaskAction.fields(of:)`'s meaning.
    static func fields(of action: TaskActionName) -> [ActionField] {
        switch action {
        case .acknowledge: [ActionField(name: "note", entry: .text, required: false)]
        case .start: []
        case .requestInfo:
            [ActionField(name: "questions", entry: .text, required: true), ActionField(name: "documents_wanted", entry: .lines, required: false)]
        case .extend: [ActionField(name: "days", entry: .number, required: true), ActionField(name: "reason", entry: .text, required: true)]
        case .transfer: [ActionField(name: "agency", entry: .choice([]), required: true), ActionField(name: "reason", entry: .text, required: true)]
        case .decline: [ActionField(name: "reason", entry: .text, required: true)]
        case .resolve:
            [
                ActionField(name: "outcome", entry: .choice(TaskOutcome.allCases.map(\.rawValue)), required: true),
                ActionField(name: "summary", entry: .text, required: true),
            ]
        case .answerInfo, .reopen, .close: []
        }
    }
}

/// A task action's form as the agency sent it, to show again beside its errors.
public struct ActionAttempt: Sendable {
    public var action: TaskActionName
    public var values: [String: String]
    /// Field name → what is wrong with it; `""` for the form as a whole.
    public var errors: [String: String]

    public init(action: TaskActionName, values: [String: String], errors: [String: String]) {
        self.action = action
        self.values = values
        self.errors = errors
    }
}

extension Pages {
    /// A task's due time as the desk and the inbox show it: paused, or its stage, due time and how late
    /// it is or how long remains.
    static func dueText(_ clock: DueView, _ w: Wording) -> String {
        if clock.paused { return w["paused"] }
        let late = clock.overdueByWorkingDays > 0 || clock.dueAt < Date()
        return "\(w["stage-\(clock.stage.rawValue)"]): \(w.dateTime(clock.dueAt)) · "
            + (late ? lateness(clock, w) : "\(w["remaining"]) \(w.workingDays(Double(clock.remainingWorkingDays)))")
    }

    /// "Late by 3 working days", or "late by less than a working day" on the day it fell due.
    static func lateness(_ clock: DueView, _ w: Wording) -> String {
        clock.overdueByWorkingDays > 0 ? "\(w["late-by"]) \(w.workingDays(Double(clock.overdueByWorkingDays)))" : w["late-today"]
    }

    /// The agency's inbox: its open tasks, the one due soonest (so the overdue ones) first.
    public func inbox(reader: Reader, page: Page<InboxItem>, notice: String?) -> String {
        let w = reader.wording
        let rows: [[String: Any]] = page.items.map { item in
            let task = item.task
            var due = "–"
            var late = false
            if let clock = task.due {
                if clock.paused {
                    due = w["paused"]
                } else if clock.overdueByWorkingDays > 0 || clock.dueAt < Date() {
                    late = true
                    due = "\(w.dateTime(clock.dueAt)) · \(Self.lateness(clock, w))"
                } else {
                    due = "\(w.dateTime(clock.dueAt)) · \(w["remaining"]) \(w.workingDays(Double(clock.remainingWorkingDays)))"
                }
            }
            return [
                "href": "/inbox/tasks/\(task.id)", "title": item.findingTitle, "state": w["state-\(task.state)"],
                "stage": task.due.map { w["stage-\($0.stage.rawValue)"] } ?? "–", "due": due, "late": late, "assigned": w.dateTime(task.assignedAt),
            ]
        }
        return render(
            "inbox", title: w["inbox"], reader: reader, notice: notice,
            [
                "tasks": rows, "hasTasks": !rows.isEmpty,
                "next": Self.nextPage("/inbox", filters: [:], cursor: page.nextCursor) as Any,
            ])
    }

    /// One task of the agency's: the finding, its documents, the timeline, the due time, and a form for
    /// every action the lifecycle allows now. `attempt` is a form sent back with its errors.
    public func inboxTask(
        reader: Reader, detail: TaskDetail, finding: FindingView?, agencies: [PartyCode], formKey: String, attempt: ActionAttempt?,
        notice: String?
    ) -> String {
        let w = reader.wording
        let task = detail.task
        let due = task.due.map { Self.dueText($0, w) }
        let actions: [[String: Any]] = detail.allowedActions.compactMap { action in
            let fields = ActionField.fields(of: action)
            guard action != .answerInfo, action != .reopen, action != .close else { return nil }
            let sent = attempt?.action == action ? attempt : nil
            let id = "act-\(action.rawValue)"
            return [
                "name": action.rawValue, "label": w["action-\(action.rawValue)"], "id": id,
                "formError": sent?.errors[""] as Any,
                "fields": fields.map { field -> [String: Any] in
                    let fieldID = "\(id)-\(field.name)"
                    let help: String? = Wording.texts["field-\(field.name)-help"] == nil ? nil : w["field-\(field.name)-help"]
                    var entry: [String: Any] = [
                        "id": fieldID, "name": field.name, "label": w["field-\(field.name)"], "required": field.required,
                        "value": sent?.values[field.name] ?? "", "error": sent?.errors[field.name] as Any, "help": help as Any,
                    ]
                    switch field.entry {
                    case .text, .lines: entry["textarea"] = true
                    case .number: entry["number"] = true
                    case .choice(let values):
                        let choices = field.name == "agency" ? agencies.map(\.rawValue).filter { $0 != task.agency.rawValue } : values
                        entry["select"] = true
                        entry["options"] = choices.map { value in
                            [
                                "value": value, "label": field.name == "outcome" ? w["outcome-\(value)"] : value,
                                "selected": sent?.values[field.name] == value,
                            ] as [String: Any]
                        }
                    }
                    return entry
                },
            ]
        }
        let events: [[String: Any]] = detail.events.map { event in
            ["at": w.dateTime(event.at), "kind": w["event-\(event.kind)"], "actor": event.actor]
        }
        let documents: [[String: Any]] = (finding?.documents ?? []).map { document in
            ["href": "/inbox/documents/\(document.id)", "id": document.id, "type": document.mediaType, "size": w.integer(document.size)]
        }
        return render(
            "inbox-task", title: detail.findingTitle, reader: reader, notice: notice,
            [
                "taskID": task.id, "state": w["state-\(task.state)"], "due": due as Any, "newsroom": detail.newsroom.rawValue,
                "category": detail.category, "jurisdiction": detail.jurisdiction.rawValue, "summary": finding?.finding.summary as Any,
                "articleURL": finding?.finding.articleURL as Any, "documents": documents, "hasDocuments": !documents.isEmpty,
                "events": events, "actions": actions, "hasActions": !actions.isEmpty, "formKey": formKey,
            ])
    }
}
