import Foundation
import Postgres
import TipwireCore

/// `tipwire demo history`: a realistic past for the demo parties, written through the same write paths as
/// live traffic (`FindingStore.submit`, `TaskStore.perform`, `RequestStore.answer`, the outbox's
/// `markSent`, the deadline engine's `raiseDue`, `DutyStore.acknowledge`), each told when it happens.
///
/// Findings arrive on working days in office hours. Each agency keeps its own habits: how fast it
/// acknowledges and resolves, how often it extends, transfers, declines, asks the newsroom, or lets a task
/// lie. Holidays and weekends come from the calendar in the database. The simulation runs in time order:
/// before each step the deadline engine raises every rung that fell due, and the outbox is delivered.
///
/// The past is not produced to Kafka: its outbox rows are recorded as delivered at partition and offset
/// -1, so agencies' topics start empty. It needs a database without findings.
public struct DemoHistory: Sendable {
    public struct Options: Sendable {
        public var findings: Int
        public var days: Int
        /// The end of the history (now, usually): nothing happens after it.
        public var until: Date
        public var seed: UInt64

        public init(findings: Int, days: Int, until: Date, seed: UInt64) {
            self.findings = findings
            self.days = days
            self.until = until
            self.seed = seed
        }
    }

    public struct Summary: Sendable, Hashable {
        public var findings = 0
        public var tasks = 0
        public var actions = 0
        public var refusedActions = 0
        public var requestsAnswered = 0
        public var rungs = 0
        public var escalationsAcknowledged = 0
        public var openTasks = 0
    }

    public enum Refusal: Error, CustomStringConvertible {
        case notEmpty(findings: Int)
        case noDemoParties
        /// A generated finding was refused: the reference data differs from the demo's.
        case notTakenIn(index: Int, outcome: String)

        public var description: String {
            switch self {
            case .notEmpty(let findings):
                "the database already holds \(findings) findings; demo history writes a past only into a database without any"
            case .noDemoParties: "the demo parties are missing; run `tipwire demo seed` first"
            case .notTakenIn(let index, let outcome):
                "demo finding \(index) was not taken in (\(outcome)); were the demo's categories or routing changed?"
            }
        }
    }

    /// How an agency tends to work. Times are medians of a log-normal spread.
    struct Habit {
        /// Working days from delivery to acknowledgement.
        var acknowledge: Double
        /// Calendar days from acknowledgement to resolution.
        var resolve: Double
        /// The log-normal sigma: how erratic the agency is.
        var spread: Double
        /// Shares of tasks: never acknowledged, acknowledged but never resolved, transferred, declined, with a
        /// question to the newsroom; and the share of long cases the agency extends rather than lets run late.
        var neglect, stall, transfer, decline, ask, extend: Double
    }

    static let habits: [String: Habit] = [
        "so-nnmt": Habit(
            acknowledge: 1.5, resolve: 18, spread: 0.5, neglect: 0.01, stall: 0.03, transfer: 0.04, decline: 0.03, ask: 0.15, extend: 0.9),
        "so-xay-dung": Habit(
            acknowledge: 5, resolve: 34, spread: 0.7, neglect: 0.06, stall: 0.08, transfer: 0.05, decline: 0.05, ask: 0.2, extend: 0.6),
        "ubnd-cau-giay": Habit(
            acknowledge: 3, resolve: 24, spread: 0.6, neglect: 0.03, stall: 0.05, transfer: 0.1, decline: 0.04, ask: 0.25, extend: 0.8),
        "ubnd-dong-da": Habit(
            acknowledge: 6, resolve: 30, spread: 0.9, neglect: 0.1, stall: 0.1, transfer: 0.06, decline: 0.1, ask: 0.1, extend: 0.4),
        "thanh-tra-tp": Habit(
            acknowledge: 1, resolve: 21, spread: 0.4, neglect: 0, stall: 0.02, transfer: 0.12, decline: 0.02, ask: 0.2, extend: 0.95),
        "cong-an-tp": Habit(acknowledge: 2, resolve: 40, spread: 0.5, neglect: 0.02, stall: 0.05, transfer: 0, decline: 0.03, ask: 0.05, extend: 0.9),
        "vks-tp": Habit(acknowledge: 3, resolve: 35, spread: 0.5, neglect: 0.02, stall: 0.05, transfer: 0, decline: 0.05, ask: 0.05, extend: 0.9),
    ]
    static let usual = Habit(
        acknowledge: 3, resolve: 25, spread: 0.6, neglect: 0.05, stall: 0.05, transfer: 0.05, decline: 0.05, ask: 0.1, extend: 0.7)

    /// What the demo newsrooms forward: a category, where, and a title and summary to vary.
    static let stories: [(category: String, jurisdictions: [String], title: String, summary: String)] = [
        (
            "land", ["cau-giay", "dong-da", "ha-noi"], "Đất công bị lấn chiếm làm bãi xe",
            "Phóng viên ghi nhận khu đất công được rào lại, cho thuê làm bãi xe."
        ),
        (
            "land", ["cau-giay", "dong-da"], "Giao đất không qua đấu giá",
            "Hồ sơ cho thấy lô đất được giao trực tiếp, không qua đấu giá như quy định."
        ),
        (
            "construction", ["cau-giay", "dong-da", "ha-noi"], "Công trình xây vượt tầng được cấp phép",
            "Toà nhà xây thêm ba tầng so với giấy phép mà không bị xử lý."
        ),
        (
            "construction", ["ha-noi"], "Nghiệm thu công trình trường học khi chưa hoàn thành",
            "Biên bản nghiệm thu ký khi hạng mục chính chưa thi công xong."
        ),
        ("procurement", ["ha-noi"], "Gói thầu thiết bị bị nâng giá", "Giá trúng thầu cao hơn giá thị trường của cùng thiết bị khoảng 40%."),
        ("budget", ["ha-noi"], "Chi sai mục đích kinh phí hỗ trợ", "Kinh phí hỗ trợ được dùng để mua sắm không nằm trong dự toán."),
        ("personnel", ["ha-noi"], "Bổ nhiệm cán bộ không đúng quy trình", "Quyết định bổ nhiệm được ký trước khi có ý kiến của cấp uỷ."),
    ]
    static let places = ["cau-giay": "phường Cầu Giấy", "dong-da": "phường Đống Đa", "ha-noi": "Hà Nội"]
    static let outcomes: [(TaskOutcome, Double)] = [
        (.substantiated, 0.35), (.partlySubstantiated, 0.3), (.unsubstantiated, 0.25), (.referredToInvestigation, 0.1),
    ]
    /// Where agencies transfer what is not theirs.
    static let transferTargets = ["cong-an-tp", "vks-tp", "so-nnmt", "so-xay-dung", "thanh-tra-tp"]

    /// One step of the simulation, at its time.
    enum Step {
        case receive(Int)
        /// An agency's next actions on a task; the first is due now.
        case act(task: UUID, agency: PartyCode, actions: [(Date, TaskAction)])
        /// A newsroom answers an agency's question; the task's remaining actions wait for the answer.
        case answer(request: UUID, newsroom: PartyCode, asked: Date, then: (task: UUID, agency: PartyCode, actions: [(Date, TaskAction)]))
    }

    let stores: TipwireStores
    let options: Options

    public init(stores: TipwireStores, options: Options) {
        self.stores = stores
        self.options = options
    }

    /// Writes the history; `progress` hears of each finding received (done, total).
    public func run(progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Summary {
        let client = stores.database.client
        let existing = try await client.query("SELECT count(*) FROM findings")[0].decode(column: 0, as: Int.self)
        guard existing == 0 else { throw Refusal.notEmpty(findings: existing) }
        let parties = try await client.query("SELECT count(*) FROM agencies WHERE code = ANY(\(Array(Self.habits.keys))::text[])")
        guard try parties[0].decode(column: 0, as: Int.self) == Self.habits.count else { throw Refusal.noDemoParties }
        let calendar = try await stores.calendar.load()
        var simulation = Simulation(history: self, calendar: calendar)
        try await simulation.run(progress: progress)
        return simulation.summary
    }
}

extension DemoHistory {
    /// The simulation's state: the agenda in time order, the random source and the tally.
    struct Simulation {
        let history: DemoHistory
        let calendar: WorkingCalendar
        var random: SeededRandom
        var agenda = Agenda()
        var summary = Summary()
        var stores: TipwireStores { history.stores }
        var until: Date { history.options.until }

        init(history: DemoHistory, calendar: WorkingCalendar) {
            self.history = history
            self.calendar = calendar
            random = SeededRandom(seed: history.options.seed)
        }

        mutating func run(progress: (Int, Int) -> Void) async throws {
            let options = history.options
            let start = until.addingTimeInterval(-Double(options.days) * 86_400)
            // Arrivals: spread evenly over the period's working time, each moved into office hours.
            for index in 0..<options.findings {
                let instant = start.addingTimeInterval(random.uniform(0..<until.timeIntervalSince(start)))
                let arrival = officeTime(after: instant, workingDays: 0)
                if arrival < until { agenda.add(arrival, .receive(index)) }
            }
            var received = 0
            while let (time, step) = agenda.next() {
                guard time < until else { break }
                try await engine(until: time)
                switch step {
                case .receive(let index):
                    try await receive(index, at: time)
                    received += 1
                    progress(received, options.findings)
                case .act(let task, let agency, let actions):
                    try await act(task, agency, actions, at: time)
                case .answer(let request, let newsroom, let asked, let then):
                    try await answer(request, newsroom, asked: asked, then: then, at: time)
                }
            }
            try await engine(until: until)
            try await acknowledgeEscalations()
            summary.openTasks = try await stores.database.client.query(
                "SELECT count(*) FROM tasks WHERE state NOT IN ('resolved', 'declined', 'transferred', 'closed')"
            )[0].decode(column: 0, as: Int.self)
        }

        // MARK: - Steps

        mutating func receive(_ index: Int, at time: Date) async throws {
            let story = Self.pick(DemoHistory.stories, &random)
            let jurisdiction = Self.pick(story.jurisdictions, &random)
            let newsroom = Self.pick(DemoData.newsrooms, &random)
            let place = DemoHistory.places[jurisdiction] ?? jurisdiction
            let submission = FindingSubmission(
                articleURL: "https://\(newsroom.code == "tuoitre" ? "tuoitre.vn" : "vnexpress.net")/lich-su-\(history.options.seed)-\(index).htm",
                title: "\(story.title) tại \(place)", publishedAt: time.addingTimeInterval(-random.uniform(3_600..<172_800)),
                summary: story.summary, category: story.category, jurisdiction: try TipwireStore.code(jurisdiction))
            let request = FindingRequest(
                newsroom: try TipwireStore.code(newsroom.code), actor: "liaison:\(newsroom.code)",
                idempotencyKey: "demo-history-\(history.options.seed)-\(index)", requestSHA256: [], submission: submission, receivedAt: time)
            let outcome = try await stores.findings.submit(request)
            // Every demo finding is valid: anything else is a bug to hear about.
            guard case .created(let view, _) = outcome else { throw Refusal.notTakenIn(index: index, outcome: "\(outcome)") }
            summary.findings += 1
            try await deliver(view.tasks, at: time)
        }

        /// The relay delivers what the outbox holds, seconds later; each delivered task gets its agency's plan.
        mutating func deliver(_ tasks: [TaskView], at time: Date) async throws {
            let delivered = time.addingTimeInterval(random.uniform(2..<90))
            try await markSent(at: delivered)
            for task in tasks {
                summary.tasks += 1
                guard let id = UUID(uuidString: task.id) else { continue }
                let actions = plan(for: task.agency, deliveredAt: delivered)
                if let first = actions.first { agenda.add(first.0, .act(task: id, agency: task.agency, actions: actions)) }
            }
        }

        mutating func act(_ task: UUID, _ agency: PartyCode, _ actions: [(Date, TaskAction)], at time: Date) async throws {
            guard let (_, action) = actions.first else { return }
            let rest = Array(actions.dropFirst())
            let outcome = try await stores.tasks.perform(action, on: task, by: .agency(agency), actorName: "agency:\(agency)", at: time)
            guard case .applied(_, let opened) = outcome else {
                summary.refusedActions += 1
                return
            }
            summary.actions += 1
            if let opened { try await deliver([opened], at: time) }
            if case .requestInfo = action {
                try await markSent(at: time)
                let rows = try await stores.database.client.query(
                    "SELECT id, newsroom_code FROM info_requests WHERE task_id = \(task) AND state = 'open'")
                guard let row = rows.firstRow else { return }
                let (request, newsroom) = try row.decode((UUID, String).self)
                // Most newsrooms answer within the week; a few never do.
                guard random.chance(0.9) else { return }
                let answered = officeTime(after: time, workingDays: random.logNormal(median: 2.5, spread: 0.7))
                agenda.add(
                    answered, .answer(request: request, newsroom: try TipwireStore.code(newsroom), asked: time, then: (task, agency, rest)))
                return
            }
            try await markSent(at: time)
            if let next = rest.first { agenda.add(max(next.0, time.addingTimeInterval(60)), .act(task: task, agency: agency, actions: rest)) }
        }

        mutating func answer(
            _ request: UUID, _ newsroom: PartyCode, asked: Date, then: (task: UUID, agency: PartyCode, actions: [(Date, TaskAction)]), at time: Date
        ) async throws {
            let outcome = try await stores.requests.answer(
                request, answer: "Toà soạn gửi bổ sung thông tin phóng viên đã thu thập.", documentIDs: [], declined: false,
                by: .newsroom(newsroom), actorName: "liaison:\(newsroom)", at: time)
            guard case .answered = outcome else { return }
            summary.requestsAnswered += 1
            try await markSent(at: time)
            // The agency's clock was paused while it waited: its remaining steps move by as much.
            let pause = time.timeIntervalSince(asked)
            let actions = then.actions.map { (officeTime(after: $0.0.addingTimeInterval(pause), workingDays: 0), $0.1) }
            if let first = actions.first {
                agenda.add(max(first.0, time.addingTimeInterval(3_600)), .act(task: then.task, agency: then.agency, actions: actions))
            }
        }

        // MARK: - The pipeline's part

        /// The deadline engine's passes up to `time`, each rung at its own time, and the outbox delivered.
        mutating func engine(until time: Date) async throws {
            let calendar = calendar
            while true {
                let (claimed, raised) = try await stores.database.client.withConnection { connection in
                    try await DeadlineStore.raiseDue(at: time, limit: 500, engine: "demo-history", calendar: calendar, on: connection)
                }
                summary.rungs += raised
                if claimed == 0 { break }
            }
            try await markSent(at: time)
        }

        func markSent(at time: Date) async throws {
            while true {
                let pending = try await stores.database.client.withConnection { try await OutboxStore.pending(limit: 500, on: $0) }
                if pending.isEmpty { return }
                let sent = max(time, pending.map(\.event.time).max() ?? time)
                try await stores.outbox.markSent(pending.map { OutboxDelivery(id: $0.id, event: $0.event, partition: -1, offset: -1) }, at: sent)
            }
        }

        /// The coordinator acknowledges most escalations within a few working days; the latest stay open.
        mutating func acknowledgeEscalations() async throws {
            let rows = try await stores.database.client.query(
                "SELECT id, raised_at FROM deadline_rungs WHERE kind <> 'reminder' AND acknowledged_at IS NULL ORDER BY raised_at, id")
            for row in rows {
                let (id, raised) = try row.decode((UUID, Date).self)
                let when = officeTime(after: raised, workingDays: random.logNormal(median: 2, spread: 0.6))
                guard when < until, random.chance(0.8) else { continue }
                let outcome = try await stores.duties.acknowledge(
                    id, note: "Đã đôn đốc cơ quan; theo dõi đến khi có kết quả.", by: "coordinator:thanh-tra-tp", idempotency: .unclaimed, at: when)
                switch outcome {
                case .answered(_, .acknowledged), .refused(.acknowledged): summary.escalationsAcknowledged += 1
                default: break
                }
            }
        }

        // MARK: - Habits

        /// What an agency will do with a task delivered at `delivered`, in time order.
        mutating func plan(for agency: PartyCode, deliveredAt delivered: Date) -> [(Date, TaskAction)] {
            let habit = DemoHistory.habits[agency.rawValue] ?? DemoHistory.usual
            if random.chance(habit.neglect) { return [] }
            let acknowledged = officeTime(after: delivered, workingDays: random.logNormal(median: habit.acknowledge, spread: habit.spread))
            if random.chance(habit.transfer) {
                let targets = DemoHistory.transferTargets.filter { $0 != agency.rawValue }
                guard let target = try? TipwireStore.code(Self.pick(targets, &random)) else { return [] }
                return [(acknowledged, .transfer(to: target, reason: "Nội dung thuộc thẩm quyền của \(target)."))]
            }
            var actions: [(Date, TaskAction)] = [(acknowledged, .acknowledge(note: "Đã tiếp nhận, giao phòng chuyên môn xác minh."))]
            if random.chance(habit.decline) {
                actions.append(
                    (officeTime(after: acknowledged, workingDays: random.uniform(1..<4)), .decline(reason: "Nội dung đã được giải quyết trước đây.")))
                return actions
            }
            let started = officeTime(after: acknowledged, workingDays: random.uniform(0.1..<2))
            actions.append((started, .start))
            if random.chance(habit.stall) { return actions }
            if random.chance(habit.ask) {
                actions.append(
                    (
                        officeTime(after: started, workingDays: random.uniform(1..<6)),
                        .requestInfo(questions: "Đề nghị toà soạn cung cấp thêm tài liệu, hình ảnh liên quan.", documentsWanted: [])
                    ))
            }
            let days = random.logNormal(median: habit.resolve, spread: habit.spread)
            let resolved = officeTime(after: acknowledged.addingTimeInterval(days * 86_400), workingDays: 0)
            // The law allows 30 days, extended by up to 30 days at most twice: long cases are extended, mostly.
            var extensions = 0
            while days > Double(30 * (extensions + 1)) - 3 && extensions < 2 && random.chance(habit.extend) {
                let asked = acknowledged.addingTimeInterval(Double(30 * (extensions + 1) - 4) * 86_400)
                actions.append(
                    (officeTime(after: asked, workingDays: 0), .extend(days: 30, reason: "Vụ việc phức tạp, cần xác minh thêm tại nhiều nơi.")))
                extensions += 1
            }
            let outcome = random.weighted(DemoHistory.outcomes)
            actions.append((resolved, .resolve(outcome: outcome, summary: "Đã xác minh, kết luận và thông báo kết quả cho toà soạn.")))
            return actions.sorted { $0.0 < $1.0 }
        }

        /// An instant in office hours (08:00–17:00, Hanoi, on a working day), `workingDays` of office time after
        /// `start` (a working day being nine office hours).
        func officeTime(after start: Date, workingDays: Double) -> Date {
            let opens = 8.0 * 3_600
            let closes = 17.0 * 3_600
            var remaining = max(0, workingDays) * (closes - opens)
            var day = WorkingCalendar.dayOf(start)
            var clock = start.timeIntervalSince(day.start)
            while true {
                if !calendar.isWorkingDay(day) || clock >= closes {
                    day = day.next
                    clock = opens
                    continue
                }
                clock = max(clock, opens)
                if remaining <= closes - clock { return day.start.addingTimeInterval(clock + remaining) }
                remaining -= closes - clock
                day = day.next
                clock = opens
            }
        }

        static func pick<T>(_ items: [T], _ random: inout SeededRandom) -> T {
            items[Int(random.next() % UInt64(items.count))]
        }
    }
}
