import Foundation
import TipwireCore
import TipwireStore

extension Pages {
    /// Protection cases: those the newsroom opened (the desk, `base` "/desk"), or those the agency holds
    /// (the inbox, "/inbox"), newest first; `canOpen` offers the form that opens one.
    public func protectionCases(reader: Reader, base: String, page: Page<ProtectionCaseView>, canOpen: Bool, notice: String?) -> String {
        let w = reader.wording
        let rows = page.items.map { view in
            ListRow(
                href: "\(base)/protection/\(view.id)",
                cells: [
                    "\(w["person-\(view.person)"]) · \(w["retaliation-\(view.retaliation)"])", view.jurisdiction,
                    reader.agency == nil ? view.protectingAgency : view.newsroom, w["protection-\(view.state)"], w.dateTime(view.openedAt),
                ], late: view.state != "resolved" && view.overdueByWorkingDays > 0)
        }
        return listPage(
            reader: reader, title: w["protection-cases"], caption: w["protection-caption"], empty: w["no-protection-cases"],
            columns: [w["field-person"], w["jurisdiction"], w["party"], w["state"], w["opened-at"]], rows: rows,
            links: canOpen ? [("\(base)/protection/new", w["open-protection"])] : [],
            next: Self.nextPage("\(base)/protection", filters: [:], cursor: page.nextCursor), notice: notice)
    }

    /// One protection case: who is threatened and how, where, who protects, its two clocks (24 hours to
    /// acknowledge, then to resolve), the outcome, and the forms the protecting agency acts with.
    public func protectionCase(
        reader: Reader, base: String, view: ProtectionCaseView, forms: [PageForm], attempt: FormAttempt?, notice: String?
    ) -> String {
        let w = reader.wording
        let late = view.state != "resolved" && view.overdueByWorkingDays > 0
        var facts = [
            Fact(w["field-person"], w["person-\(view.person)"]), Fact(w["field-retaliation"], w["retaliation-\(view.retaliation)"]),
            Fact(w["jurisdiction"], view.jurisdiction), Fact(w["newsroom"], view.newsroom), Fact(w["protecting-agency"], view.protectingAgency),
            Fact(w["opened-at"], "\(w.dateTime(view.openedAt)) · \(view.openedBy)"), Fact(w["state"], w["protection-\(view.state)"]),
        ]
        if let finding = view.findingID, reader.agency == nil { facts.append(Fact(w["finding"], finding, href: "/desk/findings/\(finding)")) }
        if let handle = view.detailsHandle { facts.append(Fact(w["source-sealed"], handle)) }
        if let acknowledged = view.acknowledgedAt {
            facts.append(Fact(w["acknowledged-at"], w.dateTime(acknowledged)))
        } else {
            facts.append(Fact(w["acknowledge-due"], w.dateTime(view.acknowledgeDueAt), late: late))
        }
        if let resolved = view.resolvedAt {
            facts.append(Fact(w["resolved-at"], w.dateTime(resolved)))
        } else if let due = view.resolveDueAt {
            facts.append(Fact(w["resolve-due"], w.dateTime(due), late: late))
        }
        if let outcome = view.outcome { facts.append(Fact(w["field-outcome"], w["protection-outcome-\(outcome)"])) }
        return recordPage(
            reader: reader, title: w["protection-case"], facts: facts, texts: view.outcomeNote.map { [(w["field-note"], $0)] } ?? [],
            downloads: [], forms: forms, attempt: attempt, notice: notice)
    }
}
