import Foundation

/// An agency as routing sees it.
public struct AgencyNode: Sendable, Hashable {
    public var code: PartyCode
    /// The supervising body, if any.
    public var parent: PartyCode?
    public var isCoordinator: Bool

    public init(code: PartyCode, parent: PartyCode? = nil, isCoordinator: Bool = false) {
        self.code = code
        self.parent = parent
        self.isCoordinator = isCoordinator
    }
}

/// A routing rule: findings of `category` (nil: any) in `jurisdiction` (nil: any) go to `target`.
public struct RoutingRule: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case agency(PartyCode)
        /// The supervising body of the finding's subject agency, when it names one that has a parent.
        case subjectSupervisor
    }

    public var category: String?
    public var jurisdiction: PartyCode?
    public var target: Target

    public init(category: String?, jurisdiction: PartyCode?, target: Target) {
        self.category = category
        self.jurisdiction = jurisdiction
        self.target = target
    }

    func matches(category: String, jurisdictions: [PartyCode]) -> Bool {
        (self.category == nil || self.category == category) && (self.jurisdiction.map(jurisdictions.contains) ?? true)
    }
}

/// Why a task was opened for an agency.
public enum RoutingReason: String, Sendable, Codable {
    case rule
    case subjectSupervisor = "subject-supervisor"
    case coordinatorQueue = "coordinator-queue"
    case reassignment
    /// The previous holder transferred the task.
    case transfer
    /// A rule named the finding's own subject agency; its supervising body and the City Inspectorate
    /// take the finding instead, since the accused never receives the tip.
    case conflictOfInterest = "conflict-of-interest"
}

public struct RoutedAgency: Sendable, Hashable {
    public var agency: PartyCode
    public var reason: RoutingReason

    public init(_ agency: PartyCode, _ reason: RoutingReason) {
        self.agency = agency
        self.reason = reason
    }
}

public enum RoutingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No rule matched and no agency holds the coordinator's queue.
    case noCoordinator
    /// Every agency that could take the finding is the subject it accuses, which has no supervising body.
    case onlyTheSubject(PartyCode)

    public var description: String {
        switch self {
        case .noCoordinator: "no routing rule matched and no agency is marked as the coordinator; mark one with is_coordinator"
        case .onlyTheSubject(let subject):
            "only \(subject) could take this finding, and it is the agency the finding names; give \(subject) a supervising body (parent)"
        }
    }
}

/// Decides which agencies are responsible for a finding.
public struct RoutingTable: Sendable {
    public var rules: [RoutingRule]
    public var agencies: [PartyCode: AgencyNode]

    public init(rules: [RoutingRule], agencies: [AgencyNode]) {
        self.rules = rules
        self.agencies = Dictionary(agencies.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var coordinator: PartyCode? { agencies.values.first(where: \.isCoordinator)?.code }

    /// The responsible agencies, in rule order without repeats. `jurisdictions` lists the finding's
    /// jurisdiction first, then its ancestors (a city-wide rule covers every ward). No match goes to the
    /// coordinator's queue.
    ///
    /// A finding never goes to the agency it names as its subject (conflict of interest): where a rule
    /// names it, the subject's supervising body and the coordinator take the finding instead, with the
    /// reason `conflict-of-interest`.
    public func route(category: String, jurisdictions: [PartyCode], subjectAgency: PartyCode?) throws(RoutingError) -> [RoutedAgency] {
        var routed: [RoutedAgency] = []
        var subjectExcluded = false
        func add(_ agency: PartyCode, _ reason: RoutingReason) {
            if agency == subjectAgency {
                subjectExcluded = true
                return
            }
            if agencies[agency] != nil, !routed.contains(where: { $0.agency == agency }) { routed.append(RoutedAgency(agency, reason)) }
        }
        for rule in rules where rule.matches(category: category, jurisdictions: jurisdictions) {
            switch rule.target {
            case .agency(let agency):
                add(agency, .rule)
            case .subjectSupervisor:
                if let subject = subjectAgency, let parent = agencies[subject]?.parent { add(parent, .subjectSupervisor) }
            }
        }
        if subjectExcluded, let subject = subjectAgency {
            // They take the finding because of the conflict, whatever else routed it to them.
            for taker in [agencies[subject]?.parent, coordinator].compactMap({ $0 }) {
                if let index = routed.firstIndex(where: { $0.agency == taker }) {
                    routed[index].reason = .conflictOfInterest
                } else {
                    add(taker, .conflictOfInterest)
                }
            }
        }
        if routed.isEmpty {
            // The coordinator's queue; when the coordinator is itself the subject, its supervising body.
            if let coordinator, coordinator != subjectAgency {
                routed.append(RoutedAgency(coordinator, .coordinatorQueue))
            } else if let subject = subjectAgency, coordinator == subject {
                throw .onlyTheSubject(subject)
            } else {
                throw .noCoordinator
            }
        }
        return routed
    }

    /// Why `agency` may not take a task on a finding naming `subjectAgency`, or nil when it may.
    public static func conflict(assigning agency: PartyCode, subjectAgency: PartyCode?) -> String? {
        guard agency == subjectAgency else { return nil }
        return "conflict of interest: \(agency) is the finding's subject agency, so it may not hold a task on it; "
            + "route it to its supervising body or the City Inspectorate"
    }
}
