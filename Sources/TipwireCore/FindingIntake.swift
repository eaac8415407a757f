import Foundation

/// What the database knows that taking in a finding depends on: the categories, the jurisdictions'
/// hierarchy and the routing rules.
public struct IntakeReference: Sendable {
    public var categories: Set<String>
    /// Each jurisdiction's parent (nil at the top).
    public var jurisdictionParents: [PartyCode: PartyCode?]
    public var routing: RoutingTable
    /// Each newsroom's current source key, for the envelopes submissions carry.
    public var currentSourceKeys: [PartyCode: SourceKeyID]

    public init(
        categories: Set<String>, jurisdictionParents: [PartyCode: PartyCode?], routing: RoutingTable,
        currentSourceKeys: [PartyCode: SourceKeyID] = [:]
    ) {
        self.categories = categories
        self.jurisdictionParents = jurisdictionParents
        self.routing = routing
        self.currentSourceKeys = currentSourceKeys
    }

    /// The jurisdiction and its ancestors, nearest first.
    public func lineage(of jurisdiction: PartyCode) -> [PartyCode] {
        var chain: [PartyCode] = []
        var next: PartyCode? = jurisdiction
        while let code = next, !chain.contains(code) {
            chain.append(code)
            next = jurisdictionParents[code] ?? nil
        }
        return chain
    }
}

/// A finding accepted for intake: the agencies it goes to and the claim-checks of its documents, in order.
public struct AcceptedFinding: Sendable, Hashable {
    public var routed: [RoutedAgency]
    public var documents: [DocumentClaimCheck]
}

public enum FindingIntake {
    /// Decides a checked submission against what the database knows: every reference it makes must exist,
    /// its documents must be the sending newsroom's own, and some agency independent of its subject must
    /// be able to take it; a sealed source envelope must be to its newsroom's current key. `documents` are the uploads the submission names that exist: who uploaded each,
    /// and its claim-check. Names every bad field. Throws only when the routing data itself is broken (no
    /// coordinator), which no submission can fix.
    public static func decide(
        _ submission: FindingSubmission, from newsroom: PartyCode, reference: IntakeReference,
        documents: [UUID: (newsroom: PartyCode, check: DocumentClaimCheck)]
    ) throws(RoutingError) -> Result<AcceptedFinding, ValidationFailure> {
        var problems: [FieldError] = []
        if !reference.categories.contains(submission.category) {
            problems.append(FieldError("category", "is not a known category (one of: \(reference.categories.sorted().joined(separator: ", ")))"))
        }
        if reference.jurisdictionParents[submission.jurisdiction] == nil {
            problems.append(FieldError("jurisdiction", "is not a known jurisdiction code"))
        }
        if let subject = submission.subjectAgency, reference.routing.agencies[subject] == nil {
            problems.append(FieldError("subject_agency", "is not a known agency code"))
        }
        var checks: [DocumentClaimCheck] = []
        for (position, id) in submission.documentIDs.enumerated() {
            guard let document = documents[id], document.newsroom == newsroom else {
                problems.append(FieldError("document_ids[\(position)]", "no document \(id.lowercased) was uploaded by your newsroom"))
                continue
            }
            checks.append(document.check)
        }
        if let envelope = submission.sourceEnvelope,
            let problem = envelope.problem(from: newsroom, currentKey: reference.currentSourceKeys[newsroom], field: "source_envelope")
        {
            problems.append(problem)
        }
        if !problems.isEmpty { return .failure(ValidationFailure(problems)) }
        do {
            let routed = try reference.routing.route(
                category: submission.category, jurisdictions: reference.lineage(of: submission.jurisdiction), subjectAgency: submission.subjectAgency)
            return .success(AcceptedFinding(routed: routed, documents: checks))
        } catch .onlyTheSubject(let subject) {
            return .failure(
                ValidationFailure("subject_agency", "no agency independent of \(subject) can take this finding; ask the coordinator to route it"))
        }
    }
}
