import Foundation
import TipwireCore
import TipwireStore

/// The fields of the form of each action an agency takes from its inbox (`TaskAction.fields(of:)` names
/// what each action's JSON holds); `agencies` are those a task may be transferred to.
func actionFields(_ action: TaskActionName, agencies: [String], _ w: Wording) -> [FormField] {
    switch action {
    case .acknowledge: [FormField("note", .textarea, required: false)]
    case .start: []
    case .requestInfo: [FormField("questions", .textarea, required: true), FormField("documents_wanted", .lines, required: false)]
    case .extend: [FormField("days", .number, required: true), FormField("reason", .textarea, required: true)]
    case .transfer:
        [
            FormField("agency", Pages.choices(agencies, labels: nil, blank: "choose", w), required: true),
            FormField("reason", .textarea, required: true),
        ]
    case .decline: [FormField("reason", .textarea, required: true)]
    case .resolve:
        [
            FormField("outcome", Pages.choices(TaskOutcome.allCases.map(\.rawValue), labels: "outcome", blank: "choose", w), required: true),
            FormField("summary", .textarea, required: true),
        ]
    case .answerInfo, .reopen, .close: []
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
        reader: Reader, detail: TaskDetail, finding: FindingView?, agencies: [PartyCode], formKey: String, attempt: FormAttempt?,
        notice: String?
    ) -> String {
        let w = reader.wording
        let task = detail.task
        let due = task.due.map { Self.dueText($0, w) }
        let transferable = agencies.map(\.rawValue).filter { $0 != task.agency.rawValue }
        let actions: [[String: Any]] = detail.allowedActions.compactMap { action in
            guard action != .answerInfo, action != .reopen, action != .close else { return nil }
            let form = PageForm(
                id: "act-\(action.rawValue)", action: "/inbox/tasks/\(task.id)/\(action.rawValue)", label: w["action-\(action.rawValue)"],
                fields: actionFields(action, agencies: transferable, w), key: formKey)
            return Self.formValues(form, reader: reader, attempt: attempt)
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
                "events": events, "actions": actions, "hasActions": !actions.isEmpty,
            ])
    }
}
