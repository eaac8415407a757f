import Foundation
import TipwireCore

/// The pages' words and how numbers and dates are written, in Vietnamese (the default) or English.
public struct Wording: Sendable {
    public let language: Language

    public init(_ language: Language) { self.language = language }

    /// The text for `key` in this language; the key itself if it has none (a test checks every key has both).
    public subscript(_ key: String) -> String {
        guard let pair = Self.texts[key] else { return key }
        return language == .vietnamese ? pair.vi : pair.en
    }

    /// Every key with its Vietnamese and English text: the dashboard's here, the desk's and the inbox's
    /// in `actingTexts`. A key in both stops the program at its first page, and every test with it.
    public static let texts: [String: (vi: String, en: String)] = dashboardTexts.merging(actingTexts) { _, _ in
        preconditionFailure("a wording key is written twice")
    }

    /// The dashboard's and sign-in's words.
    static let dashboardTexts: [String: (vi: String, en: String)] = [
        "app": ("tipwire — Theo dõi phản hồi tin báo chí", "tipwire — press-tip response tracker"),
        "skip": ("Bỏ qua, tới nội dung chính", "Skip to the main content"),
        "nav": ("Điều hướng chính", "Main navigation"),
        "overview": ("Tổng quan", "Overview"),
        "agencies": ("Các cơ quan", "Agencies"),
        "agency": ("Cơ quan", "Agency"),
        "tasks": ("Nhiệm vụ", "Tasks"),
        "overdue": ("Quá hạn", "Overdue"),
        "escalations": ("Cảnh báo leo thang", "Escalations"),
        "scorecard": ("Bảng đánh giá năm", "Annual scorecard"),
        "sign-in": ("Đăng nhập", "Sign in"),
        "sign-out": ("Đăng xuất", "Sign out"),
        "token": ("Mã truy cập (token)", "Access token"),
        "token-help": (
            "Dán mã truy cập của điều phối viên hoặc cơ quan (bắt đầu bằng tw_). Phiên đăng nhập kéo dài 8 giờ.",
            "Paste a coordinator's or an agency's access token (it starts with tw_). The session lasts 8 hours."
        ),
        "bad-token": (
            "Mã truy cập không hợp lệ, đã hết hạn hoặc không dành cho bảng điều khiển.",
            "The token is invalid, expired, or not one the dashboard accepts."
        ),
        "signed-in-as": ("Đăng nhập với vai trò", "Signed in as"),
        "language": ("Ngôn ngữ", "Language"),
        "period": ("Kỳ", "Period"),
        "period-default-group": ("Mặc định", "Default"),
        "period-default": ("Năm báo cáo đến nay", "Reporting year to date"),
        "reporting-periods": ("Kỳ báo cáo (từ ngày %d tháng trước đến ngày %d)", "Reporting periods (day %d of the month before to day %d)"),
        "reporting-periods-calendar": ("Kỳ báo cáo (theo tháng dương lịch)", "Reporting periods (calendar months)"),
        "calendar-periods": ("Kỳ theo lịch", "Calendar periods"),
        "custom-range": ("Khoảng ngày tùy chọn", "Custom range"),
        "showing": ("Đang xem", "Showing"),
        "figures-note": (
            "Số liệu tính đến %@; phân vị tính bằng giờ sai lệch không quá 1%%, các số liệu khác chính xác.",
            "Figures as of %@; percentiles in hours are within 1%%, every other figure is exact."
        ),
        "from": ("Từ ngày", "From"),
        "to": ("Đến ngày", "To"),
        "show": ("Xem", "Show"),
        "findings-received": ("Tin báo nhận được", "Findings received"),
        "findings-accounted": ("Tin báo đã xử lý xong", "Findings accounted for"),
        "tasks-assigned": ("Nhiệm vụ được giao", "Tasks assigned"),
        "ack-median": ("Thời gian tiếp nhận (trung vị)", "Time to acknowledge (median)"),
        "ack-on-time": ("Tiếp nhận đúng hạn", "Acknowledged on time"),
        "resolve-median": ("Thời gian giải quyết (trung vị)", "Time to resolve (median)"),
        "resolve-on-time": ("Giải quyết đúng hạn", "Resolved on time"),
        "open-tasks": ("Nhiệm vụ đang mở", "Open tasks"),
        "overdue-duties": ("Nghĩa vụ quá hạn", "Overdue duties"),
        "open-escalations": ("Cảnh báo chưa xử lý", "Open escalations"),
        "trend": ("Xu hướng theo tháng", "Monthly trend"),
        "trend-caption": (
            "Số nhiệm vụ được giao mỗi tháng và tỉ lệ tiếp nhận đúng hạn.", "Tasks assigned each month and the share acknowledged on time."
        ),
        "month": ("Tháng", "Month"),
        "share-on-time": ("Tỉ lệ đúng hạn", "Share on time"),
        "insufficient": ("không đủ dữ liệu", "insufficient data"),
        "insufficient-note": ("“không đủ dữ liệu”: ít hơn %d nhiệm vụ.", "\"insufficient data\": fewer than %d tasks."),
        "code": ("Mã", "Code"),
        "name": ("Tên", "Name"),
        "ack-p50": ("Tiếp nhận p50", "Acknowledge p50"),
        "ack-p90": ("Tiếp nhận p90", "Acknowledge p90"),
        "resolve-p50": ("Giải quyết p50", "Resolve p50"),
        "accounted": ("Đã xử lý xong", "Accounted for"),
        "sort-by": ("Sắp xếp theo", "Sort by"),
        "ascending": ("tăng dần", "ascending"),
        "descending": ("giảm dần", "descending"),
        "distribution": ("Phân bố thời gian tiếp nhận", "Distribution of time to acknowledge"),
        "distribution-caption": ("Số nhiệm vụ theo số ngày làm việc đến khi tiếp nhận.", "Tasks by working days taken to acknowledge."),
        "backlog": ("Nhiệm vụ đang mở theo thời gian chờ", "Open tasks by age"),
        "backlog-caption": ("Số nhiệm vụ chưa xong theo số ngày kể từ khi giao.", "Unfinished tasks by days since assignment."),
        "age-0-7": ("0–7 ngày", "0–7 days"),
        "age-8-30": ("8–30 ngày", "8–30 days"),
        "age-31-90": ("31–90 ngày", "31–90 days"),
        "age-over-90": ("trên 90 ngày", "over 90 days"),
        "age": ("Thời gian chờ (ngày)", "Age (days)"),
        "count": ("Số lượng", "Count"),
        "stage": ("Giai đoạn", "Stage"),
        "p50": ("p50", "p50"),
        "p90": ("p90", "p90"),
        "p99": ("p99", "p99"),
        "on-time": ("Đúng hạn", "On time"),
        "hours": ("giờ", "hours"),
        "stage-deliver": ("Chuyển đến cơ quan", "Delivery"),
        "stage-acknowledge": ("Tiếp nhận", "Acknowledgement"),
        "stage-first_response": ("Phản hồi đầu tiên", "First response"),
        "stage-resolve": ("Giải quyết", "Resolution"),
        "stage-newsroom_answer": ("Báo chí trả lời", "Newsroom's answer"),
        "stage-agency_answer": ("Cơ quan trả lời", "Agency's answer"),
        "extensions": ("Gia hạn", "Extensions"),
        "transfers": ("Chuyển cơ quan khác", "Transfers"),
        "declines": ("Từ chối", "Declines"),
        "finding": ("Tin báo", "Finding"),
        "state": ("Trạng thái", "State"),
        "assigned": ("Ngày giao", "Assigned"),
        "due": ("Hạn", "Due"),
        "holder": ("Bên có nghĩa vụ", "Duty holder"),
        "late-by": ("Trễ", "Late by"),
        "rung": ("Bậc", "Rung"),
        "raised": ("Thời điểm", "Raised"),
        "kind": ("Loại", "Kind"),
        "kind-overdue": ("Quá hạn", "Overdue notice"),
        "kind-escalation": ("Leo thang", "Escalation"),
        "acknowledge": ("Xác nhận đã xem", "Acknowledge"),
        "acknowledged-by": ("Đã xác nhận bởi", "Acknowledged by"),
        "note": ("Ghi chú", "Note"),
        "note-help": ("Bắt buộc: việc đã làm hoặc sẽ làm.", "Required: what was or will be done."),
        "nothing-overdue": ("Không có nghĩa vụ nào quá hạn.", "No duty is overdue."),
        "no-escalations": ("Không có cảnh báo nào.", "No escalations."),
        "no-tasks": ("Không có nhiệm vụ nào.", "No tasks."),
        "more": ("Trang sau", "Next page"),
        "open-only": ("Đang mở", "Open"),
        "acknowledged-only": ("Đã xác nhận", "Acknowledged"),
        "all": ("Tất cả", "All"),
        "not-found": ("Không tìm thấy", "Not found"),
        "not-found-text": (
            "Trang hoặc đối tượng này không tồn tại, hoặc bạn không có quyền xem.", "This page or object does not exist, or you may not see it."
        ),
        "bad-request": ("Yêu cầu không hợp lệ", "Bad request"),
        "back": ("Quay lại trang chính", "Back to your start page"),
        "method": ("Phương pháp", "Method"),
        "print": ("In trang này", "Print this page"),
        "download-csv": ("Tải CSV", "Download CSV"),
        "year": ("Năm", "Year"),
        "working-days": ("ngày làm việc", "working days"),
        "csrf": ("Phiên làm việc đã thay đổi; vui lòng thử lại.", "The form expired; please try again."),
        "done": ("Đã ghi nhận.", "Done."),
        "main-figures": ("Số liệu chính", "Key figures"),
        "previous-period": ("so với kỳ trước", "against the previous period"),
        "role-coordinator": ("Điều phối viên", "Coordinator"),
        "role-agency": ("Cơ quan", "Agency"),
        "role-liaison": ("Cán bộ liên lạc tòa soạn", "Newsroom liaison"),
    ]

    /// A whole number with the language's thousands separator: 1.234 or 1,234.
    public func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(language == .vietnamese ? "." : ",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// A number with at most one decimal: 12,5 or 12.5.
    public func decimal(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return integer(Int(rounded)) }
        let text =
            integer(Int(rounded.rounded(.towardZero))) + (language == .vietnamese ? "," : ".") + String(Int((abs(rounded) * 10).rounded()) % 10)
        return rounded < 0 && rounded > -1 ? "-" + text : text
    }

    /// A share as a percentage: 93,5% or 93.5%; a dash when withheld.
    public func percent(_ share: Double?) -> String {
        guard let share else { return self["insufficient"] }
        return decimal(share * 100) + "%"
    }

    /// Working days: "3 ngày làm việc" / "3 working days" (English says "1 working day").
    public func workingDays(_ value: Double?) -> String {
        guard let value else { return self["insufficient"] }
        if language == .english && value == 1 { return "1 working day" }
        return "\(decimal(value)) \(self["working-days"])"
    }

    public func hours(_ value: Double?) -> String {
        guard let value else { return self["insufficient"] }
        if language == .english && value == 1 { return "1 hour" }
        return "\(decimal(value)) \(self["hours"])"
    }

    /// A day in Hanoi: 20/03/2026 or 20 Mar 2026.
    public func date(_ instant: Date) -> String {
        let day = WorkingCalendar.dayOf(instant)
        return day.formatted(language)
    }

    /// A day and time in Hanoi: 20/03/2026 14:05 or 20 Mar 2026, 14:05.
    public func dateTime(_ instant: Date) -> String {
        let seconds = Int((instant.timeIntervalSince1970 + WorkingCalendar.utcOffset).rounded(.down))
        let minutes = ((seconds % 86_400) + 86_400) % 86_400 / 60
        let clock = String(format: "%02d:%02d", minutes / 60, minutes % 60)
        return date(instant) + (language == .vietnamese ? " " : ", ") + clock
    }

    /// `2026-03` as "Th3 2026" or "Mar 2026".
    /// The heading of the reporting periods, with the cut-off the calendar holds (it is data, not always the 15th).
    public func reportingPeriods(_ calendar: ReportingCalendar) -> String {
        calendar.startDay == 1
            ? self["reporting-periods-calendar"] : String(format: self["reporting-periods"], calendar.startDay, calendar.startDay - 1)
    }

    /// A named period as a reader says it: "Quý III/2026 (kỳ báo cáo)", "Reporting Q3 2026".
    public func periodName(_ named: NamedPeriod) -> String {
        let roman = ["I", "II", "III", "IV"]
        if language == .vietnamese {
            let name =
                switch named.span {
                case .year: "Năm \(named.year)"
                case .nineMonths: "9 tháng năm \(named.year)"
                case .half(let half): "6 tháng \(half == 1 ? "đầu" : "cuối") năm \(named.year)"
                case .quarter(let quarter): "Quý \(roman[quarter - 1])/\(named.year)"
                case .month(let month): "Tháng \(month)/\(named.year)"
                }
            return named.reporting ? "\(name) (kỳ báo cáo)" : name
        }
        let name =
            switch named.span {
            case .year: "\(named.year)"
            case .nineMonths: "9 months \(named.year)"
            case .half(let half): "H\(half) \(named.year)"
            case .quarter(let quarter): "Q\(quarter) \(named.year)"
            case .month(let month): "\(CalendarDay.englishMonths[month - 1]) \(named.year)"
            }
        return named.reporting ? "Reporting \(name)" : (named.span == .year ? "Year \(name)" : name)
    }

    /// A month's axis label ("Th3" / "Mar") and, at the first month shown and each January, its year.
    public func monthTick(_ key: String, first: Bool) -> (tick: String, year: String?) {
        guard let (year, month) = Self.yearAndMonth(key) else { return (key, nil) }
        return (shortMonth(month), first || month == 1 ? String(year) : nil)
    }

    public func month(_ key: String) -> String {
        guard let (year, month) = Self.yearAndMonth(key) else { return key }
        return "\(shortMonth(month)) \(year)"
    }

    /// "Th3" or "Mar".
    func shortMonth(_ month: Int) -> String { language == .vietnamese ? "Th\(month)" : CalendarDay.englishMonths[month - 1] }

    /// A report's month key, `2026-03`.
    static func yearAndMonth(_ key: String) -> (year: Int, month: Int)? {
        let parts = key.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else { return nil }
        return (year, month)
    }
}

extension CalendarDay {
    static let englishMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// 20/03/2026 (Vietnamese) or 20 Mar 2026 (English).
    public func formatted(_ language: Language) -> String {
        language == .vietnamese ? String(format: "%02d/%02d/%04d", day, month, year) : "\(day) \(Self.englishMonths[month - 1]) \(year)"
    }
}
