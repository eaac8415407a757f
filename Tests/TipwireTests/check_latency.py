#!/usr/bin/env python3
"""Computes tipwire's latency figures straight from the task events, as an independent check of
GET /v1/stats/latency (docs/analytics.md). Reads the tables with psql; prints JSON.

usage: check_latency.py DATABASE_URL SCHEMA FROM TO AS_OF
       check_latency.py DATABASE_URL SCHEMA PERIOD - AS_OF
  FROM, TO: YYYY-MM-DD (both included, Hanoi time); AS_OF: the report's as_of (RFC 3339).
  PERIOD: a named period (2026, 2026-Q2, 2026-11, …; report-2026-Q1, … cut as Decree 09/2019/NĐ-CP
  Article 12 does: from the 15th of the month before to the 14th), worked out here, not by tipwire.
Every figure is computed here, none is read from task_timelines: timelines, working days,
nearest-rank percentiles, on-time judgements and the backlog's ages.
"""
import csv
import datetime as dt
import io
import json
import math
import os
import subprocess
import sys

HANOI = dt.timezone(dt.timedelta(hours=7))
ENDINGS = {"resolved", "declined", "transferred", "closed"}
RESPONSES = {"acknowledged", "started", "info_requested", "extended", "transferred", "declined", "resolved"}


def rows(url, schema, sql):
    env = dict(os.environ, PGOPTIONS=f"-c search_path={schema}")
    out = subprocess.run(["psql", url, "-X", "-q", "--csv", "-c", sql], env=env, check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def instant(text):
    return None if text in (None, "") else float(text)


def local_day(epoch):
    return dt.datetime.fromtimestamp(epoch, HANOI).date()


def nearest_rank(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def quantiles(values):
    return [nearest_rank(values, p) for p in (0.5, 0.9, 0.99)] if values else None


def named_period(name):
    """The first and last day of a named period, with the decree's cut-off on the 15th for report-…"""
    reporting = name.startswith("report-")
    year_text, _, span = name.removeprefix("report-").partition("-")
    year = int(year_text)
    if span == "":
        months = (1, 12)
    elif span == "9M":
        months = (1, 9)
    elif span[0] == "H":
        months = (6 * int(span[1:]) - 5, 6 * int(span[1:]))
    elif span[0] == "Q":
        months = (3 * int(span[1:]) - 2, 3 * int(span[1:]))
    else:
        months = (int(span), int(span))

    def first_day(month, year):
        if month == 13:
            month, year = 1, year + 1
        if not reporting:
            return dt.date(year, month, 1)
        return dt.date(year - 1, 12, 15) if month == 1 else dt.date(year, month - 1, 15)

    return first_day(months[0], year), first_day(months[1] + 1, year) - dt.timedelta(days=1)


def main():
    url, schema, first, last, as_of = sys.argv[1:6]
    if last == "-":
        first, last = (day.isoformat() for day in named_period(first))
    start = dt.datetime.combine(dt.date.fromisoformat(first), dt.time(), HANOI).timestamp()
    end = dt.datetime.combine(dt.date.fromisoformat(last) + dt.timedelta(days=1), dt.time(), HANOI).timestamp()
    now_day = dt.datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(HANOI).date()

    holidays = {dt.date.fromisoformat(r["day"]) for r in rows(url, schema, "SELECT day FROM holidays")}
    swapped = {dt.date.fromisoformat(r["day"]) for r in rows(url, schema, "SELECT day FROM working_overrides")}

    def working(day):
        return day in swapped or (day not in holidays and day.weekday() < 5)

    def working_days(begin, finish):
        first_day, last_day = local_day(begin), local_day(finish - 1e-6)
        count, day = 0, first_day
        while day < last_day:
            day += dt.timedelta(days=1)
            count += working(day)
        return count

    joined = {r["code"]: float(r["joined"]) for r in rows(url, schema, "SELECT code, extract(epoch FROM joined_at) AS joined FROM agencies")}
    tasks = {r["id"]: r for r in rows(url, schema, "SELECT id, agency_code, finding_id, extract(epoch FROM deliver_by) AS deliver_by FROM tasks")}
    events = rows(url, schema, "SELECT id, task_id, kind, actor, extract(epoch FROM at) AS at FROM task_events ORDER BY id")
    clocks = rows(url, schema, "SELECT id, task_id, stage, holder_kind, holder_code, extract(epoch FROM due_at) AS due FROM deadlines ORDER BY id")
    rungs = rows(url, schema, "SELECT deadline_id, kind FROM deadline_rungs")
    requests = rows(
        url, schema,
        "SELECT newsroom_code, state, extract(epoch FROM created_at) AS asked, extract(epoch FROM answered_at) AS answered,"
        " extract(epoch FROM due_at) AS due FROM info_requests WHERE direction = 'to-newsroom'")

    lines = {}
    for event in events:
        line = lines.setdefault(event["task_id"], {"extensions": 0, "last_end": None, "last_reopen": None})
        kind, at, number = event["kind"], float(event["at"]), int(event["id"])
        first = {"assigned": "assigned", "delivered": "delivered", "acknowledged": "acknowledged", "resolved": "resolved",
                 "declined": "declined", "transferred": "transferred"}.get(kind)
        if first and first not in line:
            line[first] = at
        # Only the agency's own actions respond: the coordinator's reassignment (a transfer) does not.
        if kind in RESPONSES and not event["actor"].startswith("coordinator:") and "first_response" not in line:
            line["first_response"] = at
        if kind == "extended":
            line["extensions"] += 1
        if kind in ENDINGS:
            line["last_end"] = number
        if kind == "reopened":
            line["last_reopen"] = number
    due = {}
    clock_task = {}
    for clock in clocks:
        # Escalations count against an agency only on the clocks it holds, never on the newsroom's answer clocks.
        if clock["holder_kind"] == "agency" and clock["holder_code"] == tasks[clock["task_id"]]["agency_code"]:
            clock_task[clock["id"]] = clock["task_id"]
        due.setdefault((clock["task_id"], clock["stage"]), float(clock["due"]))

    def is_ended(line):
        return line["last_end"] is not None and (line["last_reopen"] is None or line["last_end"] > line["last_reopen"])

    # A finding counts in the period its first task (after its agency joined) was assigned in, and is
    # settled when none of its tasks, whenever assigned, is open.
    first_task = {}
    unsettled = set()
    for task_id, line in lines.items():
        task = tasks[task_id]
        assigned = line.get("assigned")
        if assigned is None or assigned < joined[task["agency_code"]]:
            continue
        key = (assigned, task_id)
        if task["finding_id"] not in first_task or key < first_task[task["finding_id"]]:
            first_task[task["finding_id"]] = key
        if not is_ended(line):
            unsettled.add(task["finding_id"])
    findings = {finding: finding not in unsettled for finding, (assigned, _) in first_task.items() if start <= assigned < end}

    groups = {}
    in_scope = set()
    for task_id, line in lines.items():
        task = tasks[task_id]
        assigned = line.get("assigned")
        if assigned is None or not (start <= assigned < end) or assigned < joined[task["agency_code"]]:
            continue
        in_scope.add(task_id)
        group = groups.setdefault(task["agency_code"], {
            "tasks": 0, "spans": {s: [] for s in ("deliver", "acknowledge", "first_response", "resolve")},
            "extensions": 0, "transfers": 0, "declines": 0, "accounted": 0, "escalations": 0,
            "backlog": {"0-7": 0, "8-30": 0, "31-90": 0, "over-90": 0}})
        group["tasks"] += 1
        spans = {
            "deliver": ("assigned", "delivered", float(task["deliver_by"])),
            "acknowledge": ("delivered", "acknowledged", due.get((task_id, "acknowledge"))),
            "first_response": ("delivered", "first_response", due.get((task_id, "acknowledge"))),
            "resolve": ("delivered", "resolved", due.get((task_id, "resolve"))),
        }
        for stage, (begin, finish, deadline) in spans.items():
            if begin in line and finish in line:
                group["spans"][stage].append((line[begin], line[finish], deadline))
        group["extensions"] += line["extensions"]
        group["transfers"] += "transferred" in line
        group["declines"] += "declined" in line
        ended = is_ended(line)
        group["accounted"] += ended
        if not ended:
            age = (now_day - local_day(assigned)).days
            bucket = "0-7" if age <= 7 else "8-30" if age <= 30 else "31-90" if age <= 90 else "over-90"
            group["backlog"][bucket] += 1
    for rung in rungs:
        task_id = clock_task.get(rung["deadline_id"])
        if rung["kind"] in ("overdue", "escalation") and task_id in in_scope:
            groups[tasks[task_id]["agency_code"]]["escalations"] += 1

    def figures(spans):
        return {
            "count": len(spans),
            "hours": quantiles([max(0.0, (f - b) / 3600) for b, f, _ in spans]),
            "working_days": quantiles([max(0, working_days(b, f)) for b, f, _ in spans]),
            "judged": sum(1 for _, _, d in spans if d is not None),
            "on_time": sum(1 for _, f, d in spans if d is not None and f <= d),
        }

    answers = {}
    for request in requests:
        asked = float(request["asked"])
        if not (start <= asked < end):
            continue
        entry = answers.setdefault(request["newsroom_code"], {"asked": 0, "spans": []})
        entry["asked"] += 1
        if request["state"] == "answered":
            entry["spans"].append((asked, float(request["answered"]), float(request["due"])))

    report = {
        "groups": {code: {**{k: v for k, v in g.items() if k != "spans"}, "stages": {s: figures(sp) for s, sp in g["spans"].items()}}
                   for code, g in groups.items()},
        "findings": {"received": len(findings), "accounted_for": sum(findings.values())},
        "newsroom_answers": {code: {"asked": a["asked"], "answer": figures(a["spans"])} for code, a in answers.items()},
    }
    json.dump(report, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
