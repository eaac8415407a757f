"""Checks deploy/ against the code, so the deployment cannot drift from the CLI.

usage: deploy_check.py TIPWIRE_BINARY COMPOSE_CONFIG_YAML PROVISION_PLAN [--expect-drift]

COMPOSE_CONFIG_YAML is `docker-compose -f deploy/compose.yaml config` (anchors and merges resolved);
PROVISION_PLAN is `tipwire provision --dry-run` over the demo parties. Checked:
- every tipwire service's and systemd unit's command is a tipwire subcommand, each flag it passes is one
  that subcommand takes, and each TIPWIRE_* variable it sets is one that subcommand reads (its --help
  names every variable it reads);
- the Dockerfile's TIPWIRE_* variables are read by the commands the image runs, and it builds the release
  binary with the same command as deploy/local/up;
- every Kafka topic named anywhere in deploy/ is one that `tipwire provision` creates;
- the principal the provisioning job grants tipwire is the SASL user tipwire's clients log in as, and the
  Kafka nodes create that SCRAM user;
- every tipwire_* metric the alert rules (deploy/prometheus/alerts.yml) use is one the code exports,
  every alert's runbook is a heading of docs/operations.md, and Prometheus scrapes every pipeline
  service on the port compose gives it.
With --expect-drift it exits 0 only if it found a problem (the checker's own test).
"""
import glob
import re
import subprocess
import sys

import yaml

binary, config_path, plan_path = sys.argv[1:4]
expect_drift = "--expect-drift" in sys.argv
problems = []
helps = {}


def help_text(subcommand):
    key = tuple(subcommand)
    if key not in helps:
        run = subprocess.run([binary, *subcommand, "--help"], capture_output=True, text=True)
        helps[key] = run.stdout + run.stderr if run.returncode == 0 else None
    return helps[key]


def check_command(where, argv, environment):
    words = list(argv)
    if words and words[0].endswith("/tipwire"):
        words = words[1:]
    subcommand = []
    while words and not words[0].startswith("-") and help_text(subcommand + [words[0]]) is not None:
        subcommand.append(words.pop(0))
    if not subcommand:
        problems.append(f"{where}: '{' '.join(argv)}' is not a tipwire subcommand")
        return
    text = help_text(subcommand)
    for word in words:
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            if not re.search(re.escape(flag) + r"(?![a-z-])", text):
                problems.append(f"{where}: tipwire {' '.join(subcommand)} takes no {flag}")
    for name in environment:
        if name.startswith("TIPWIRE_") and name not in text:
            problems.append(f"{where}: tipwire {' '.join(subcommand)} does not read {name}")


config = yaml.safe_load(open(config_path))
tipwire_services = 0
for name, service in config["services"].items():
    image = service.get("image", "")
    if not image.startswith("tipwire") and "${TIPWIRE_IMAGE" not in image:
        continue
    tipwire_services += 1
    check_command(f"compose service {name}", service.get("command") or [], (service.get("environment") or {}).keys())
if tipwire_services < 9:
    problems.append(f"compose.yaml has {tipwire_services} tipwire services, expected the jobs, two APIs and the pipeline with standbys")

for path in sorted(glob.glob("deploy/systemd/*.service")):
    lines = open(path).read().splitlines()
    environment = [line.split("=", 2)[1] for line in lines if line.startswith("Environment=")]
    for line in lines:
        if line.startswith("ExecStart="):
            check_command(path, line[len("ExecStart="):].split(), environment)

dockerfile = open("deploy/Dockerfile").read()
image_commands = {tuple((s.get("command") or [""])[:1]) for s in config["services"].values() if "tipwire" in s.get("image", "")}
for name in re.findall(r"\b(TIPWIRE_[A-Z_]+)=", dockerfile):
    if not any(name in (help_text(list(command)) or "") for command in image_commands):
        problems.append(f"deploy/Dockerfile sets {name}, which no command the image runs reads")
build = "swift build -c release --product tipwire"
if build not in dockerfile or build not in open("deploy/local/up").read():
    problems.append(f"deploy/Dockerfile and deploy/local/up must both build with '{build}'")

provisioned = {line.split(" ", 1)[1] for line in open(plan_path).read().splitlines() if line.startswith("topic ")}
if not provisioned:
    problems.append("tipwire provision --dry-run planned no topics")
topic = re.compile(r"\btipwire\.(?:findings|escalations|tasks|responses|requests|dlq)(?:\.[a-z0-9-]+)*\b")
for path in sorted(glob.glob("deploy/**/*", recursive=True)):
    if "/secrets/" in path or not re.search(r"(\.ya?ml|\.service|\.properties|Dockerfile|\.md|/start|Caddyfile)$", path):
        continue
    for name in topic.findall(open(path, errors="replace").read()):
        if name not in provisioned:
            problems.append(f"{path} names topic {name}, which tipwire provision does not create")

provision = config["services"]["provision"]["command"]
principal = provision[provision.index("--tipwire-principal") + 1] if "--tipwire-principal" in provision else "User:tipwire"
user = principal.split(":", 1)[1]
if "sasl.username=%s" not in open("deploy/production/make-secrets").read() or "client_properties tipwire " not in open(
    "deploy/production/make-secrets"
).read():
    problems.append("make-secrets no longer writes tipwire's Kafka client settings")
if f"name={user}," not in open("deploy/production/kafka/start").read():
    problems.append(f"the Kafka nodes do not create the SCRAM user {user} that the provisioning job grants")

sources = "".join(open(path).read() for path in glob.glob("Sources/**/*.swift", recursive=True))
alerts = yaml.safe_load(open("deploy/prometheus/alerts.yml"))
headings = {
    re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
    for line in open("docs/operations.md").read().splitlines()
    if line.startswith("#")
}
rules = [rule for group in alerts["groups"] for rule in group["rules"]]
for rule in rules:
    for metric in set(re.findall(r"\btipwire_[a-z0-9_]+", rule["expr"])):
        if f'"{metric}"' not in sources:
            problems.append(f"alert {rule['alert']} uses {metric}, which the code does not export")
    anchor = rule["annotations"]["runbook"].split("#", 1)[1]
    if anchor not in headings:
        problems.append(f"alert {rule['alert']}: docs/operations.md has no heading #{anchor}")
scraped = open("deploy/prometheus/prometheus.yml").read()
for name, service in config["services"].items():
    port = (service.get("environment") or {}).get("TIPWIRE_METRICS_PORT")
    if port and f"{name}:{port}" not in scraped:
        problems.append(f"Prometheus does not scrape {name}:{port}")

for problem in problems:
    print("DRIFT:", problem)
if expect_drift:
    sys.exit(0 if problems else 1)
print(f"deploy/ matches the code: {tipwire_services} compose services, {len(glob.glob('deploy/systemd/*.service'))} systemd units, "
      f"{len(helps)} --help texts read, {len(provisioned)} provisioned topics, {len(rules)} alerts")
sys.exit(1 if problems else 0)
