import Foundation

/// The annual scorecard (docs/analytics.md): every agency's response figures for a calendar year, the
/// evidence for the plan's annual evaluation, with the method that produced them. Built from a
/// `LatencyReport` grouped by agency over the year, so it is reproducible from the task events.
public struct Scorecard: Sendable, Hashable, Codable {
    public struct Row: Sendable, Hashable, Codable {
        public var agency: String
        public var name: String
        public var figures: GroupFigures

        public init(agency: String, name: String, figures: GroupFigures) {
            self.agency = agency
            self.name = name
            self.figures = figures
        }
    }

    public var year: Int
    public var minimumSample: Int
    public var asOf: Date
    /// Holidays and swapped working days of the year on the calendar the figures used.
    public var holidays: Int
    public var workingSaturdays: Int
    public var rows: [Row]

    enum CodingKeys: String, CodingKey {
        case year, holidays, rows
        case minimumSample = "minimum_sample", asOf = "as_of", workingSaturdays = "working_saturdays"
    }

    /// Every agency of `agencies` (code and name, in order) gets a row; one with no task in the year gets
    /// zeros and "insufficient data".
    public init(year: Int, report: LatencyReport, agencies: [(code: String, name: String)], holidays: Int, workingSaturdays: Int) {
        self.year = year
        minimumSample = report.minimumSample
        asOf = report.asOf
        self.holidays = holidays
        self.workingSaturdays = workingSaturdays
        // Evaluation evidence is exact: hour percentiles (within 1% from the rollups) are left out.
        let byAgency = Dictionary(
            report.groups.map { group in
                var exact = group
                for index in exact.stages.indices { exact.stages[index].hours = nil }
                return (group.key, exact)
            }, uniquingKeysWith: { first, _ in first })
        rows = agencies.map { agency in
            Row(
                agency: agency.code, name: agency.name,
                figures: byAgency[agency.code]
                    ?? GroupFigures(
                        key: agency.code, name: agency.name, tasks: 0,
                        stages: LatencyStage.taskStages.map {
                            StageFigures(stage: $0, count: 0, hours: nil, workingDays: nil, judged: 0, onTime: 0, minimumSample: report.minimumSample)
                        }, backlog: [:], extensions: 0, transfers: 0, declines: 0, escalations: 0, accountedFor: 0,
                        minimumSample: report.minimumSample))
        }
    }

    /// The method, sentence by sentence, in `language`: printed on the page and at the head of the CSV.
    public func method(_ language: Language) -> [String] {
        switch language {
        case .vietnamese:
            [
                "Nguồn: nhật ký sự kiện nhiệm vụ của tipwire (task_events); tính lại được bằng lệnh: tipwire scorecard \(year) --csv.",
                "Phạm vi: nhiệm vụ giao trong năm \(year) (giờ Hà Nội), trừ nhiệm vụ giao trước ngày cơ quan tham gia tipwire.",
                "Đúng hạn: việc tiếp nhận (hoặc giải quyết) xong trước thời hạn của đồng hồ nghĩa vụ, đã tính gia hạn và thời gian chờ báo chí trả lời.",
                "Ngày làm việc: trừ thứ Bảy, Chủ nhật và \(holidays) ngày nghỉ lễ trong năm, tính \(workingSaturdays) ngày làm bù theo lịch của Bộ Nội vụ.",
                "Phân vị p50/p90 theo hạng gần nhất, tính bằng ngày làm việc (chính xác); giải quyết tính từ khi giao đến khi giải quyết lần đầu.",
                "Nhóm dưới \(minimumSample) nhiệm vụ ghi “không đủ dữ liệu” thay cho số liệu.",
            ]
        case .english:
            [
                "Source: tipwire's task event log (task_events); reproduce with: tipwire scorecard \(year) --csv.",
                "Scope: tasks assigned in \(year) (Hanoi time), except tasks assigned before the agency joined tipwire.",
                "On time: acknowledged (or resolved) before the duty clock's due time, extensions and waits on the newsroom included.",
                "Working days exclude weekends and the year's \(holidays) public holidays, and include \(workingSaturdays) swapped working Saturdays, as the Ministry of Home Affairs publishes them.",
                "p50/p90 by nearest rank, in working days (exact); resolve runs from delivery to the first resolution.",
                "Groups of fewer than \(minimumSample) tasks show \"insufficient data\" instead of a number.",
            ]
        }
    }

    public static let csvHeader = [
        "agency", "name", "tasks", "acknowledged", "acknowledge_p50_working_days", "acknowledge_p90_working_days", "acknowledge_on_time_percent",
        "first_response_p50_working_days", "resolved", "resolve_p50_working_days", "resolve_p90_working_days", "resolve_on_time_percent", "open",
        "extensions", "transfers", "declines", "escalations", "accounted_for_percent", "insufficient_data",
    ]

    /// RFC 4180 CSV (CRLF line ends), the method first as `#` lines. Withheld figures are empty cells.
    public func csv(_ language: Language = .english) -> String {
        var lines = method(language).map { "# " + $0 }
        lines.append(Self.csvHeader.joined(separator: ","))
        for row in rows {
            let f = row.figures
            let acknowledge = f[.acknowledge]
            let resolve = f[.resolve]
            let cells: [String] = [
                row.agency, row.name, "\(f.tasks)", "\(acknowledge?.count ?? 0)", Self.number(acknowledge?.workingDays?.p50),
                Self.number(acknowledge?.workingDays?.p90), Self.percent(acknowledge?.onTimeShare), Self.number(f[.firstResponse]?.workingDays?.p50),
                "\(resolve?.count ?? 0)", Self.number(resolve?.workingDays?.p50), Self.number(resolve?.workingDays?.p90),
                Self.percent(resolve?.onTimeShare), "\(f.openTasks)", "\(f.extensions)", "\(f.transfers)", "\(f.declines)", "\(f.escalations)",
                Self.percent(f.accountedShare), f.insufficientData ? "true" : "false",
            ]
            lines.append(cells.map(Self.quoted).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func quoted(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        return value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func percent(_ share: Double?) -> String {
        guard let share else { return "" }
        return String(format: "%.1f", share * 100)
    }
}
