"""The soak: tipwire with its pipeline in separate processes under steady load and chaos, then checked.

usage: soak.py --bin TIPWIRE --owner-url URL --service-url URL --tokens FILE --work DIR [--minutes M] [--rate R]

Runs the embedded broker (`tipwire broker`), an API alone (`tipwire serve --no-relay --no-responses
--no-deadlines`), `tipwire relay`, `tipwire responses` and `tipwire deadlines`, each its own process. For
M minutes:
- a liaison officer submits R findings a second (a 503 or a lost connection is retried with the same
  Idempotency-Key, as clients are told to);
- each agency reads its task topic in its own consumer group (aiokafka) and acknowledges every task by a
  response on its response topic; one response in ten is produced twice with the same ce_id;
- every 20 s, 20 clocks' next rung is brought due within 20 s (the ladders are days long), so the
  deadline engine raises rungs throughout;
- a chaos loop SIGKILLs the relay, the response consumer or the deadline engine at random every 15-45 s
  and starts it again 0-5 s later, and every 3-6 minutes (the first time within the first quarter)
  freezes the broker (SIGSTOP) for 20-40 s: every client's requests to it hang until it thaws;
- the resident memory of every process is sampled every 10 s.
Then the load stops, the pipeline catches up, and the checks run:
- every accepted (201) finding's finding.received event and every task's task.assigned event is on its topic;
- every response produced was applied exactly once (applied_responses), and no response was dead-lettered;
- no rung is due and unraised, and every rung raised during the soak is on its topics (by escalation_id);
- the memory of the API, which lives through the soak, is flat: its resident memory at the end is
  within 20% of what it was a minute after start. The embedded broker keeps every message in memory, so
  the report shows its growth per message held instead; the pipeline's processes are killed too often
  for the check, and the report shows their longest life.
Prints the figures and writes them to DIR/report.json; exits 1 if a check fails.
"""
import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--owner-url", required=True)
parser.add_argument("--service-url", required=True)
parser.add_argument("--tokens", required=True)
parser.add_argument("--work", required=True)
parser.add_argument("--minutes", type=float, default=30)
parser.add_argument("--rate", type=float, default=5)
args = parser.parse_args()

started_at = time.time()
stop_load = threading.Event()
lock = threading.Lock()


def say(message):
    print(f"[soak {time.strftime('%H:%M:%S')} +{(time.time() - started_at) / 60:4.1f} min] {message}", flush=True)


def sql(query):
    # On standard input: a query listing every accepted finding is longer than a command line may be.
    return subprocess.run(["psql", args.owner_url, "-XAtq", "-v", "ON_ERROR_STOP=1"], input=query, check=True, capture_output=True,
                          text=True).stdout.strip()


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


tokens = dict(line.split("=", 1) for line in open(args.tokens).read().split() if "=" in line)
liaison = tokens["TIPWIRE_TOKEN_LIAISON_TUOITRE"]
agencies = sql("SELECT code FROM agencies ORDER BY code").split()
plan = subprocess.run([args.bin, "provision", "--dry-run", "--database-url", args.owner_url], check=True, capture_output=True, text=True).stdout
topics = [line.split()[1] for line in plan.splitlines() if line.startswith("topic ")]

# --- processes ------------------------------------------------------------------------------------

api_port = free_port()
broker_file = os.path.join(args.work, "broker.env")
processes = {}  # role -> Popen
incarnations = {}  # role -> number started
memory = {}  # (role, incarnation) -> [(seconds since start, RSS kB)]
kills = {"relay": 0, "responses": 0, "deadlines": 0}
freezes = []


def command(role):
    common = ["--log-format", "json", "--log-level", "warning"]
    if role == "broker":
        return [args.bin, "broker", "--runtime-file", broker_file] + [f"--topic={t}:3" for t in topics] + common
    if role == "api":
        return [args.bin, "serve", "--no-relay", "--no-responses", "--no-deadlines", "--port", str(api_port), "--database-url", args.service_url,
                "--rate-limit", "0"] + common
    kafka = ["--kafka-brokers", bootstrap, "--no-create-topics"]
    if role == "relay":
        return [args.bin, "relay", "--database-url", args.service_url, "--cluster-check-seconds", "10"] + kafka + common
    if role == "responses":
        return [args.bin, "responses", "--database-url", args.service_url] + kafka + common
    return [args.bin, "deadlines", "--database-url", args.service_url] + common


def start(role):
    log = open(os.path.join(args.work, f"{role}.log"), "ab")
    processes[role] = subprocess.Popen(command(role), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    incarnations[role] = incarnations.get(role, 0) + 1


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None


start("broker")
for _ in range(100):
    if os.path.exists(broker_file):
        break
    time.sleep(0.1)
bootstrap = open(broker_file).read().strip().split("=", 1)[1]
for role in ["api", "relay", "responses", "deadlines"]:
    start(role)
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{api_port}/healthz", timeout=2)
        break
    except Exception:
        time.sleep(0.2)
say(f"broker {bootstrap}, API on port {api_port}, {len(agencies)} agencies, {len(topics)} topics; {args.minutes} minutes at {args.rate} findings/s")

# --- load: findings -------------------------------------------------------------------------------

accepted = []  # finding ids answered 201
answers = {}  # status -> count
retried = [0]
categories = sql("SELECT DISTINCT category_code FROM routing_rules ORDER BY 1").split() or ["land"]
jurisdictions = sql("SELECT code FROM jurisdictions ORDER BY code").split()


def submit(n):
    body = json.dumps({
        "article_url": f"https://tuoitre.vn/soak-{n}-{uuid.uuid4().hex[:8]}.htm", "title": f"Phát hiện thử tải {n}",
        "published_at": "2026-11-20T08:30:00+07:00", "summary": "Phát hiện dùng cho thử tải dài.",
        "category": random.choice(categories), "jurisdiction": random.choice(jurisdictions),
    }).encode()
    key = str(uuid.uuid4())
    for attempt in range(60):
        request = urllib.request.Request(f"http://127.0.0.1:{api_port}/v1/findings", data=body, method="POST", headers={
            "Authorization": f"Bearer {liaison}", "Content-Type": "application/json", "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status, text = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        except Exception:
            status, text = "error", b""
        with lock:
            answers[status] = answers.get(status, 0) + 1
        if status in (200, 201):
            with lock:
                accepted.append(json.loads(text)["id"])
            return
        if status in (503, "error"):
            retried[0] += 1
            time.sleep(1)
            continue
        say(f"finding {n} answered {status}: {text[:300]!r}")
        return


def load():
    n = 0
    next_at = time.time()
    while not stop_load.is_set():
        n += 1
        threading.Thread(target=submit, args=(n,), daemon=True).start()
        next_at += 1 / args.rate
        time.sleep(max(0, next_at - time.time()))


# --- load: agencies' responses ----------------------------------------------------------------------

responded = {}  # task id -> agency
produced = {}  # ce_id -> times produced (2 for the deliberate duplicates)


async def agency_loop():
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, request_timeout_ms=60000)
    await producer.start()
    consumer = AIOKafkaConsumer(*[f"tipwire.tasks.{a}" for a in agencies], bootstrap_servers=bootstrap, group_id="soak-agencies",
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        while not (stop_load.is_set() and all_caught_up.is_set()):
            try:
                batches = await consumer.getmany(timeout_ms=500)
            except Exception as error:
                say(f"agency consumer: {error!r}; retrying")
                await asyncio.sleep(1)
                continue
            for messages in batches.values():
                for message in messages:
                    headers = {k: v.decode() for k, v in message.headers}
                    if headers.get("ce_type") != "vn.tipwire.task.assigned.v1":
                        continue
                    task = headers["ce_subject"].split("/", 1)[1]
                    agency = message.topic.split(".", 2)[2]
                    if task in responded:
                        continue
                    ce_id = str(uuid.uuid4())
                    times = 2 if random.random() < 0.1 else 1
                    for _ in range(times):
                        while True:
                            try:
                                await producer.send_and_wait(
                                    f"tipwire.responses.{agency}", json.dumps({"task_id": task}).encode(), key=task.encode(), headers=[
                                        ("ce_specversion", b"1.0"), ("ce_id", ce_id.encode()), ("ce_source", f"/agencies/{agency}".encode()),
                                        ("ce_type", b"vn.tipwire.response.acknowledge.v1"), ("ce_subject", f"tasks/{task}".encode()),
                                        ("ce_time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()),
                                        ("content-type", b"application/json")])
                                break
                            except Exception as error:
                                say(f"agency producer: {error!r}; retrying")
                                await asyncio.sleep(1)
                    with lock:
                        responded[task] = agency
                        produced[ce_id] = times
    finally:
        await consumer.stop()
        await producer.stop()


all_caught_up = threading.Event()

# --- rungs coming due -----------------------------------------------------------------------------

warped = [0]
last_warp = [0.0]  # when rungs were last brought due: they fall due up to 20 s later


def bring_rungs_due():
    while not stop_load.wait(20):
        count = sql("""
            WITH picked AS (SELECT deadline_id FROM deadline_timers WHERE next_at > now() + interval '1 hour' ORDER BY random() LIMIT 20)
            UPDATE deadline_timers t SET next_at = now() + random() * interval '20 seconds' FROM picked p WHERE t.deadline_id = p.deadline_id
            RETURNING 1""").count("1")
        sql("NOTIFY tipwire_deadlines")
        warped[0] += count
        last_warp[0] = time.time()


# --- chaos ----------------------------------------------------------------------------------------


def chaos():
    # The first freeze comes within the first quarter of the soak (2-4 minutes into a long one).
    next_freeze = time.time() + min(random.uniform(120, 240), random.uniform(0.1, 0.25) * args.minutes * 60)
    while not stop_load.wait(random.uniform(15, 45)):
        role = random.choice(list(kills))
        processes[role].kill()
        processes[role].wait()
        kills[role] += 1
        if stop_load.wait(random.uniform(0, 5)):
            start(role)
            return
        start(role)
        if time.time() >= next_freeze:
            seconds = random.uniform(20, 40)
            say(f"broker frozen (SIGSTOP) for {seconds:.0f} s")
            processes["broker"].send_signal(signal.SIGSTOP)
            stop_load.wait(seconds)
            processes["broker"].send_signal(signal.SIGCONT)
            freezes.append(round(seconds))
            next_freeze = time.time() + random.uniform(180, 360)


def sample_memory():
    while not all_caught_up.wait(10):
        for role, process in list(processes.items()):
            kb = rss_kb(process.pid)
            if kb is not None:
                memory.setdefault((role, incarnations[role]), []).append((time.time() - started_at, kb))


backlog_peak = [0]


def progress():
    while not stop_load.wait(60):
        unsent = int(sql("SELECT count(*) FROM outbox"))
        backlog_peak[0] = max(backlog_peak[0], unsent)
        with lock:
            say(f"{len(accepted)} findings accepted, {len(produced)} responses produced, outbox {unsent}, kills {kills}, "
                f"broker freezes {len(freezes)}, rungs brought due {warped[0]}")


soak_start = sql("SELECT now()")
threads = [threading.Thread(target=f, daemon=True) for f in (load, bring_rungs_due, chaos, progress)]
agency_thread = threading.Thread(target=lambda: asyncio.run(agency_loop()), daemon=True)
for thread in threads + [agency_thread, threading.Thread(target=sample_memory, daemon=True)]:
    thread.start()
time.sleep(args.minutes * 60)
stop_load.set()
processes["broker"].send_signal(signal.SIGCONT)
for thread in threads:
    thread.join()
time.sleep(2)  # submissions in flight finish or retry
say("load stopped; waiting for the pipeline to catch up")
for role in kills:
    if processes[role].poll() is not None:
        start(role)

# Every rung brought due must have fallen due before "none is due" means the engine is done.
time.sleep(max(0, last_warp[0] + 21 - time.time()))
deadline = time.time() + 600
while time.time() < deadline:
    unsent = int(sql("SELECT count(*) FROM outbox"))
    due = int(sql("SELECT count(*) FROM deadline_timers WHERE next_at <= now()"))
    with lock:
        tasks_done = set(responded)
        expected_applied = len(produced)
    open_tasks = int(sql(f"""SELECT count(*) FROM tasks t JOIN findings f ON f.id = t.finding_id
        WHERE f.created_at >= '{soak_start}' AND t.state IN ('assigned', 'delivered')""")) if accepted else 0
    applied = int(sql(f"SELECT count(*) FROM applied_responses WHERE applied_at >= '{soak_start}'")) if expected_applied else 0
    if unsent == 0 and due == 0 and open_tasks == 0 and applied >= expected_applied:
        break
    time.sleep(2)
all_caught_up.set()
agency_thread.join(timeout=30)
caught_up_after = time.time() - started_at - args.minutes * 60
say(f"caught up {caught_up_after:.0f} s after the load stopped")

# --- checks ---------------------------------------------------------------------------------------


async def read_topics(names):
    """Every event on these topics, read from the beginning by a new consumer group: (topic, headers, value)."""
    consumer = AIOKafkaConsumer(*names, bootstrap_servers=bootstrap, group_id=f"soak-check-{uuid.uuid4()}", auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    events = []
    try:
        ends = None
        async with asyncio.timeout(300):
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=10000)
                for messages in batches.values():
                    events += [(m.topic, {k: v.decode() for k, v in m.headers}, m.value) for m in messages]
                assigned = consumer.assignment()
                if len(assigned) < sum(len(consumer.partitions_for_topic(n) or []) for n in names):
                    continue
                if ends is None:
                    ends = await consumer.end_offsets(list(assigned))
                if all([await consumer.position(p) >= end for p, end in ends.items()]):
                    return events
    finally:
        await consumer.stop()


events = asyncio.run(read_topics([t for t in topics if not t.startswith("tipwire.dlq") and not t.startswith("tipwire.responses")]))
subjects = {(h.get("ce_type"), h.get("ce_subject")) for _, h, _ in events}
rung_ids = set()
for _, headers, value in events:
    if headers.get("ce_type", "").split(".")[3:4] in (["reminder"], ["overdue"]) or headers.get("ce_type", "").startswith("vn.tipwire.escalation"):
        try:
            rung_ids.add(json.loads(value).get("escalation_id"))
        except ValueError:
            pass

findings_missing = [f for f in accepted if ("vn.tipwire.finding.received.v1", f"findings/{f}") not in subjects]
tasks = sql(f"SELECT id FROM tasks WHERE finding_id = ANY('{{{','.join(accepted)}}}'::uuid[])").split() if accepted else []
tasks_missing = [t for t in tasks if ("vn.tipwire.task.assigned.v1", f"tasks/{t}") not in subjects]
applied_rows = dict(
    line.split("|") for line in sql(f"SELECT ce_id, count(*) FROM applied_responses WHERE applied_at >= '{soak_start}' GROUP BY ce_id").splitlines())
responses_missing = [c for c in produced if c not in applied_rows]
responses_twice = [c for c, n in applied_rows.items() if int(n) != 1]
dead_letters = asyncio.run(read_topics([t for t in topics if t.startswith("tipwire.dlq")]))
acknowledged = int(sql(f"""SELECT count(*) FROM task_events e WHERE e.kind = 'acknowledged' AND e.at >= '{soak_start}'""") or 0)
raised = sql(f"SELECT id FROM deadline_rungs WHERE raised_at >= '{soak_start}'").split()
rungs_missing = [r for r in raised if r not in rung_ids]
due_unraised = int(sql("SELECT count(*) FROM deadline_timers WHERE next_at <= now()"))


def growth(role):
    """RSS growth of the longest-lived incarnation from its first minute to its end, and its lifetime in minutes."""
    lives = [samples for (r, _), samples in memory.items() if r == role and len(samples) >= 2]
    if not lives:
        return None
    samples = max(lives, key=lambda s: s[-1][0] - s[0][0])
    warm = [kb for t, kb in samples if t - samples[0][0] >= 60][:1] or [samples[0][1]]
    return {"minutes": round((samples[-1][0] - samples[0][0]) / 60, 1), "after_warmup_mb": round(warm[0] / 1024, 1),
            "end_mb": round(samples[-1][1] / 1024, 1), "peak_mb": round(max(kb for _, kb in samples) / 1024, 1),
            "growth": round(samples[-1][1] / warm[0] - 1, 3)}


report = {
    "minutes": args.minutes, "rate": args.rate, "answers": {str(k): v for k, v in answers.items()}, "retries": retried[0],
    "findings_accepted": len(accepted), "tasks": len(tasks), "findings_missing_on_topic": len(findings_missing),
    "tasks_missing_on_topic": len(tasks_missing), "responses_produced": len(produced),
    "responses_produced_twice": sum(1 for n in produced.values() if n == 2), "responses_applied": len(applied_rows),
    "responses_not_applied": len(responses_missing), "responses_applied_more_than_once": len(responses_twice),
    "acknowledged_events": acknowledged, "dead_letters": len(dead_letters), "rungs_brought_due": warped[0], "rungs_raised": len(raised),
    "rungs_missing_on_topic": len(rungs_missing), "rungs_due_unraised": due_unraised, "kills": kills, "broker_freezes_s": freezes,
    "outbox_peak": backlog_peak[0], "caught_up_after_s": round(caught_up_after), "memory": {r: growth(r) for r in ["api", "broker", *kills]},
}
failures = []
if not accepted:
    failures.append("no finding was accepted")
if findings_missing or tasks_missing:
    failures.append(f"{len(findings_missing)} findings and {len(tasks_missing)} tasks accepted but not on their topics")
if responses_missing or responses_twice:
    failures.append(f"{len(responses_missing)} responses not applied, {len(responses_twice)} applied more than once")
if acknowledged != len(produced):
    failures.append(f"{acknowledged} acknowledged events for {len(produced)} responses")
if dead_letters:
    failures.append(f"{len(dead_letters)} responses dead-lettered")
if rungs_missing or due_unraised:
    failures.append(f"{len(rungs_missing)} raised rungs not on their topics, {due_unraised} due and unraised")
# The embedded broker keeps every message in memory (it stands in for Kafka's disks), so it grows with
# what it holds; the API must not grow at all.
held = len(events) + len(dead_letters) + len(produced)
if report["memory"]["broker"]:
    g = report["memory"]["broker"]
    report["memory"]["broker"]["kb_per_message_held"] = round((g["end_mb"] - g["after_warmup_mb"]) * 1024 / max(1, held), 2)
for role in ["api"]:
    g = report["memory"][role]
    if g and g["minutes"] >= 5 and g["growth"] > 0.2:
        failures.append(f"the {role}'s memory grew {g['growth']:.0%} over {g['minutes']} minutes")
report["failures"] = failures
json.dump(report, open(os.path.join(args.work, "report.json"), "w"), indent=2, ensure_ascii=False)
print(json.dumps(report, indent=2, ensure_ascii=False))

# Graceful stop: every process within 30 s of SIGTERM.
for role, process in processes.items():
    process.send_signal(signal.SIGCONT if role == "broker" else signal.SIGTERM)
for role in ["api", "relay", "responses", "deadlines", "broker"]:
    if role == "broker":
        processes[role].terminate()
    try:
        processes[role].wait(timeout=30)
    except subprocess.TimeoutExpired:
        failures.append(f"{role} did not stop within 30 s of SIGTERM")
        processes[role].kill()
for failure in failures:
    say(f"FAILED: {failure}")
say("soak passed" if not failures else "soak failed")
sys.exit(1 if failures else 0)
