import Foundation
import TipwireCore
import TipwireStore

extension Pages {
    /// Disclosure requests: those filed with the newsroom (the desk, `base` "/desk"), or those the agency
    /// filed (the inbox, "/inbox"), newest first; `canFile` offers the form that files one.
    public func disclosures(reader: Reader, base: String, page: Page<DisclosureRequestView>, canFile: Bool, notice: String?) -> String {
        let w = reader.wording
        let rows = page.items.map { view in
            ListRow(
                href: "\(base)/disclosures/\(view.id)",
                cells: [
                    view.caseReference, reader.agency == nil ? view.agency : view.newsroom, view.legalBasis, w["disclosure-\(view.state)"],
                    w.dateTime(view.dueAt),
                ], late: view.state == "open" && view.overdueByWorkingDays > 0)
        }
        return listPage(
            reader: reader, title: w["disclosures"], caption: w["disclosures-caption"], empty: w["no-disclosures"],
            columns: [w["field-case_reference"], w["party"], w["field-legal_basis"], w["state"], w["due"]], rows: rows,
            links: canFile ? [("\(base)/disclosures/new", w["file-disclosure"])] : [],
            next: Self.nextPage("\(base)/disclosures", filters: [:], cursor: page.nextCursor), notice: notice)
    }

    /// One disclosure request: what was asked, on which legal basis, its written request to download, its
    /// due time, and the decision, or the form that records it.
    public func disclosure(
        reader: Reader, base: String, view: DisclosureRequestView, forms: [PageForm], attempt: FormAttempt?, notice: String?
    ) -> String {
        let w = reader.wording
        var facts = [
            Fact(w["field-source_handle"], view.sourceHandle), Fact(w["agency"], view.agency), Fact(w["newsroom"], view.newsroom),
            Fact(w["requested-by"], view.requestedBy), Fact(w["field-legal_basis"], view.legalBasis),
            Fact(w["field-crime_class"], w["crime-\(view.crimeClass)"]), Fact(w["field-case_reference"], view.caseReference),
            Fact(w["field-dated"], view.dated), Fact(w["state"], w["disclosure-\(view.state)"]),
            Fact(w["due"], w.dateTime(view.dueAt), late: view.state == "open" && view.overdueByWorkingDays > 0),
        ]
        var texts = [(heading: w["legal-basis-text"], text: view.citation)]
        if let decision = view.decision {
            facts.append(Fact(w["decided"], "\(w.dateTime(decision.decidedAt)) · \(decision.decidedBy)"))
            texts.append((w["field-reason"], decision.reason))
        }
        let letter = view.writtenRequest
        return recordPage(
            reader: reader, title: "\(w["disclosure"]) \(view.caseReference)", facts: facts, texts: texts,
            downloads: [
                (
                    "\(base)/disclosures/\(view.id)/letter",
                    "\(w["download-letter"]) (\(letter.mediaType), \(w.integer(letter.size)) \(w["bytes"]))"
                )
            ], forms: forms, attempt: attempt, notice: notice)
    }
}
