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

    public var description: String {
        "no routing rule matched and no agency is marked as the coordinator; mark one with is_coordinator"
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
    public func route(category: String, jurisdictions: [PartyCode], subjectAgency: PartyCode?) throws(RoutingError) -> [RoutedAgency] {
        var routed: [RoutedAgency] = []
        func add(_ agency: PartyCode, _ reason: RoutingReason) {
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
        if routed.isEmpty {
            guard let coordinator else { throw .noCoordinator }
            routed.append(RoutedAgency(coordinator, .coordinatorQueue))
        }
        return routed
    }
}
