# Shared settings and helpers for localstack/{install,start,stop,status,check}; sourced, not run.
# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this

LS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LS_VENV="$LS_DIR/.venv"
LS_STATE="$LS_DIR/.state"
LS_LOG="$LS_STATE/localstack.log"
LS_PIDFILE="$LS_STATE/localstack.pid"
LS_PORT="${LOCALSTACK_PORT:-4566}"
# A LocalStack run elsewhere (Pro, Docker): only its health is checked, nothing is started.
LS_EXTERNAL="${LOCALSTACK_ENDPOINT:-}"
LS_ENDPOINT="${LOCALSTACK_ENDPOINT:-http://127.0.0.1:$LS_PORT}"
LS_ENDPOINT="${LS_ENDPOINT%/}"
# What the provisioner calls; `start` loads exactly these (see README.md).
LS_SERVICES="ec2,iam,sts,secretsmanager,logs,route53,ecs,rds,elasticache,elbv2,apigatewayv2,application-autoscaling,s3,ssm,lambda,dynamodb"

ls_log() { printf 'localstack: %s\n' "$*" >&2; }

# The health document, or nothing (and a non-zero status) when the endpoint does not answer.
ls_health() { curl -fsS --max-time 3 "$LS_ENDPOINT/_localstack/health" 2>/dev/null; }

# Prints version and the state of each service the provisioner needs; returns 1 when one is
# missing or not usable (e.g. a LocalStack without our plugin and without a Pro licence).
ls_report() { # health-json
  python3 - "$1" "$LS_SERVICES" <<'PY'
import json, sys
health, wanted = json.loads(sys.argv[1]), sys.argv[2].split(",")
services = health.get("services", {})
print(f"version {health.get('version', '?')} ({health.get('edition', '?')} edition)")
bad = [s for s in wanted if services.get(s) not in ("available", "running")]
for name in wanted:
    print(f"  {name:15} {services.get(name, 'missing')}")
if bad:
    print(f"not usable: {', '.join(bad)}")
sys.exit(1 if bad else 0)
PY
}

# The pid of our LocalStack when its pid file names a live LocalStack process, else nothing.
ls_pid() {
  [[ -f "$LS_PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$LS_PIDFILE")"
  # A stale pid file may name a process that reused the pid: check what it runs.
  if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'localstack.runtime.main'; then
    echo "$pid"
    return 0
  fi
  return 1
}
