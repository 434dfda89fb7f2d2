#!/usr/bin/env bash
# Container test: the real deploy/Dockerfile, each service in its own container.
#
#   bash test/integration/deploy/containers.sh
#
# 1. A Node 20 base image made locally (no registry is reachable here): a debootstrap
#    bookworm minbase root filesystem (cached under $FARM_DEPLOY_CACHE) carrying this
#    machine's node binary and npm: what the official node:20-slim image is.
# 2. A nats-server image made the same way with this machine's nats-server.
# 3. deploy/Dockerfile built with --build-arg BASE_IMAGE=<that base>.
# 4. One pod (containers talk over the pod's own loopback): NATS with the real
#    deploy/nats/auth.conf, then ingest, splitter, linter-runner, aggregator, each its own
#    container under its own NATS user; a test git repository mounted into ingest.
# 5. A client container (user farm-client) publishes repo.new_sha with `farm publish` and
#    reads the reports with `farm report`; the reports are checked, the server log must
#    show no permission violation, every service container must be healthy (the image's
#    HEALTHCHECK) and must stop cleanly on SIGTERM.
# The pod, the containers and every image it built are removed on exit, failure included.
#
# Needs root (podman with runc and the cgroupfs manager: crun fails on the cgroups of machines like CI's); installs podman,
# runc, catatonit and debootstrap with apt-get when missing (.ci/run runs it). Network: the npm registry and Debian's
# mirror during the build only (--network host); the test traffic stays in the pod.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
export PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin"

START=$(date +%s)
step() { printf '\n== [%4ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  echo "containers.sh needs root (podman with runc): run it with sudo" >&2
  exit 2
fi

# ---- tools ------------------------------------------------------------------------------
# Debian package of each command this script runs. podman's pod infra ("pause") container
# needs catatonit: apt satisfies podman's Recommends with tini, which the pause image cannot use.
declare -A PKG=([podman]=podman [runc]=runc [catatonit]=catatonit [debootstrap]=debootstrap
  [nats-server]=nats-server [git]=git [gzip]=gzip [tar]=tar [od]=coreutils [awk]=mawk)
need=()
for bin in "${!PKG[@]}"; do command -v "$bin" >/dev/null || need+=("${PKG[$bin]}"); done
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || echo "apt-get update reported errors; installing anyway" >&2
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Every binary the script uses, checked before anything starts: a missing one is named here,
# not found out as a cryptic podman error half-way through.
for bin in "${!PKG[@]}" node npm; do
  command -v "$bin" >/dev/null || fail "$bin is missing (Debian package: ${PKG[$bin]:-nodejs/npm}); install it and run again"
done

PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
# The healthcheck is run by hand (`podman healthcheck run`): no systemd timers here, and
# podman says so on every run of an image with a HEALTHCHECK; that line is dropped.
NOHC_TIMER=(--health-interval=disable)
nosystemd() { grep -v "unable to get systemd connection" >&2 || true; }

ID="farm-ct-$$-$RANDOM"
POD="$ID-pod"
IMG_ROOTFS="localhost/$ID-rootfs"
IMG_NODE="localhost/$ID-node20"
IMG_NATS="localhost/$ID-nats"
IMG_FARM="localhost/$ID-farm"
WORK=$(mktemp -d /tmp/farm-containers.XXXXXX)
# Raising limits is refused here, and a pod's infra container takes no --ulimit flag: the
# limits go in as defaults, for every container podman starts in this run.
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"
CACHE="${FARM_DEPLOY_CACHE:-$HOME/.cache/farm-deploy}"
ROOTFS_TAR="$CACHE/bookworm-minbase.tar.gz"
SERVICES=(ingest splitter linter-runner aggregator)

HAD_PAUSE=$("${PODMAN[@]}" images -q localhost/podman-pause 2>/dev/null || true)

cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && "${PODMAN[@]}" pod exists "$POD" 2>/dev/null; then
    echo "---- logs of the failed run ----" >&2
    for c in nats "${SERVICES[@]}"; do
      echo "--- $c" >&2
      "${PODMAN[@]}" logs --tail 40 "$ID-$c" 2>&1 | cut -c1-400 >&2
    done
  fi
  "${PODMAN[@]}" pod rm -f "$POD" >/dev/null 2>&1
  "${PODMAN[@]}" rm -f $("${PODMAN[@]}" ps -aq --filter "label=farm-ct=$ID" 2>/dev/null) >/dev/null 2>&1
  "${PODMAN[@]}" rmi -f "$IMG_FARM" "$IMG_NATS" "$IMG_NODE" "$IMG_ROOTFS" >/dev/null 2>&1
  # podman builds its pod infra image on first use: remove it if this run made it.
  [ -z "$HAD_PAUSE" ] && "${PODMAN[@]}" rmi -f "$("${PODMAN[@]}" images -q localhost/podman-pause)" >/dev/null 2>&1
  # Intermediate images of the multi-stage build (labelled by this run).
  local left
  left=$("${PODMAN[@]}" images -aq --filter "label=farm-ct=$ID" 2>/dev/null)
  [ -n "$left" ] && "${PODMAN[@]}" rmi -f $left >/dev/null 2>&1
  rm -rf "$WORK"
  echo "cleaned up (pod $POD, images $ID-*) after $(( $(date +%s) - START ))s; exit $rc" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- base images ----------------------------------------------------------------------------
if [ ! -s "$ROOTFS_TAR" ]; then
  step "debootstrap bookworm minbase (once; cached in $ROOTFS_TAR)"
  mkdir -p "$CACHE"
  MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap"; }
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | gzip -1 >"$ROOTFS_TAR.tmp"
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$WORK/rootfs"
fi

step "importing the root filesystem"
"${PODMAN[@]}" import -q "$ROOTFS_TAR" "$IMG_ROOTFS" >/dev/null

step "node 20 base image from this machine's node ($(node --version)) and npm"
NODE_BIN=$(readlink -f "$(command -v node)")
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
mkdir -p "$WORK/node-base"
cp "$NODE_BIN" "$WORK/node-base/node"
cp -a "$NPM_DIR" "$WORK/node-base/npm"
cat >"$WORK/node-base/Containerfile" <<EOF
FROM $IMG_ROOTFS
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
CMD ["node"]
EOF
"${PODMAN[@]}" build -q "${ULIMITS[@]}" --label "farm-ct=$ID" -t "$IMG_NODE" "$WORK/node-base" >/dev/null

step "nats-server image from this machine's nats-server ($(nats-server --version))"
mkdir -p "$WORK/nats-image"
cp "$(command -v nats-server)" "$WORK/nats-image/nats-server"
cat >"$WORK/nats-image/Containerfile" <<EOF
FROM $IMG_ROOTFS
COPY nats-server /usr/local/bin/nats-server
ENTRYPOINT ["nats-server"]
EOF
"${PODMAN[@]}" build -q "${ULIMITS[@]}" --label "farm-ct=$ID" -t "$IMG_NATS" "$WORK/nats-image" >/dev/null

# ---- the real Dockerfile ----------------------------------------------------------------
step "building deploy/Dockerfile (BASE_IMAGE=$IMG_NODE)"
BUILD=("${PODMAN[@]}" build --format docker "${ULIMITS[@]}" --label "farm-ct=$ID"
  --network host -v /etc/hosts:/etc/hosts:ro
  --ignorefile deploy/Dockerfile.dockerignore -f deploy/Dockerfile
  --build-arg "BASE_IMAGE=$IMG_NODE" -t "$IMG_FARM")
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  # This machine's extra CA, for npm, at a path of its own (mounted over the image's own
  # /etc/ssl/certs bundle it would break the ca-certificates package install).
  BUILD+=(-v "$NODE_EXTRA_CA_CERTS:/run/farm-build-ca.crt:ro" --build-arg "NODE_EXTRA_CA_CERTS=/run/farm-build-ca.crt")
fi
"${BUILD[@]}" . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; fail "image build"; }
"${PODMAN[@]}" image inspect "$IMG_FARM" --format '{{.Size}}' | awk '{printf "image size: %.0f MB\n", $1/1e6}'

# What the image promises.
user=$("${PODMAN[@]}" image inspect "$IMG_FARM" --format '{{.Config.User}}')
[ "$user" = "farm:farm" ] || fail "image user is '$user', expected farm:farm"
"${PODMAN[@]}" image inspect "$IMG_FARM" --format '{{.Config.Env}}' | grep -q 'NODE_ENV=production' || fail "NODE_ENV is not production"
[ "$("${PODMAN[@]}" image inspect "$IMG_FARM" --format '{{.Config.StopSignal}}')" = "SIGTERM" ] || fail "STOPSIGNAL is not SIGTERM"
"${PODMAN[@]}" image inspect "$IMG_FARM" --format '{{json .Config.Healthcheck}}' | grep -q healthcheck.mjs || fail "no HEALTHCHECK"
# Production dependencies only: no vitest, no tsx, no TypeScript sources.
if "${PODMAN[@]}" run --rm "${ULIMITS[@]}" "${NOHC_TIMER[@]}" --entrypoint sh "$IMG_FARM" -c 'ls node_modules/vitest node_modules/tsx shared 2>/dev/null' 2> >(nosystemd) | grep -q .; then
  fail "the runtime image holds dev dependencies or sources"
fi
"${PODMAN[@]}" run --rm "${ULIMITS[@]}" "${NOHC_TIMER[@]}" "$IMG_FARM" --help >/dev/null 2> >(nosystemd) || fail "farm --help in the image"

# ---- a repository to analyze ------------------------------------------------------------
step "test repository"
REPO="$WORK/repo"
mkdir -p "$REPO/lib"
g() { git -C "$REPO" -c user.name=farm -c user.email=farm@test.invalid -c init.defaultBranch=main "$@"; }
g init -q
printf '{"name":"fixture","type":"commonjs"}\n' >"$REPO/package.json"
printf 'const a = 1;\nmodule.exports = a;\n' >"$REPO/index.js"
g add -A && g commit -qm "first"
printf 'function f() { return undefinedThing; }\nmodule.exports = f;\n' >"$REPO/lib/util.js"
g add -A && g commit -qm "util with an undefined name"
printf 'const a = 1;\nconst unused = 2;\nmodule.exports = a;\n' >"$REPO/index.js"
g add -A && g commit -qm "an unused variable"
SHAS=($(g rev-list --first-parent --reverse HEAD))
HEAD_SHA=${SHAS[2]}
# The services run as uid 10001; git refuses repositories owned by someone else.
chown -R 10001:10001 "$REPO"
mkdir -p "$WORK/mirrors" && chown 10001:10001 "$WORK/mirrors"

# ---- the pod --------------------------------------------------------------------------------
step "pod: nats + ${SERVICES[*]}"
pw() { echo "p$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
declare -A PASS
ENV_NATS=()
for u in INGEST SPLITTER LINTER_RUNNER AGGREGATOR WEB REPORTER CLIENT ADMIN; do
  PASS[$u]=$(pw)
  ENV_NATS+=(-e "FARM_${u}_PASSWORD=${PASS[$u]}")
done
mkdir -p "$WORK/nats-conf"
cp deploy/nats/auth.conf "$WORK/nats-conf/auth.conf"
cat >"$WORK/nats-conf/nats.conf" <<'EOF'
# One node for the container test; deploy/nats/nats.conf is the cluster's.
server_name: nats-test
listen: 127.0.0.1:4222
jetstream { store_dir: /data }
include ./auth.conf
EOF
"${PODMAN[@]}" pod create --name "$POD" --label "farm-ct=$ID" >/dev/null
"${PODMAN[@]}" run -d --pod "$POD" --name "$ID-nats" --label "farm-ct=$ID" "${ULIMITS[@]}" \
  -v "$WORK/nats-conf:/etc/nats:ro" "${ENV_NATS[@]}" "$IMG_NATS" -c /etc/nats/nats.conf >/dev/null
for _ in $(seq 1 50); do
  "${PODMAN[@]}" logs "$ID-nats" 2>&1 | grep -q "Server is ready" && break
  sleep 0.2
done
"${PODMAN[@]}" logs "$ID-nats" 2>&1 | grep -q "Server is ready" || fail "nats-server did not start"

NATS_URL=nats://127.0.0.1:4222
run_service() {
  local name=$1 key extra=()
  key=$(echo "$name" | tr 'a-z-' 'A-Z_')
  if [ "$name" = ingest ]; then
    extra=(-e FARM_ALLOW_LOCAL_REPOS=1 -v "$REPO:/repos/fixture:ro" -v "$WORK/mirrors:/data")
  fi
  # --read-only (tmpfs /tmp): what deploy/k8s runs with (readOnlyRootFilesystem).
  "${PODMAN[@]}" run -d --pod "$POD" --name "$ID-$name" --label "farm-ct=$ID" "${ULIMITS[@]}" "${NOHC_TIMER[@]}" --read-only \
    -e "NATS_URL=$NATS_URL" -e "NATS_USER=$name" -e "NATS_PASSWORD=${PASS[$key]}" -e "NATS_INBOX_PREFIX=_INBOX_$name" \
    -e FARM_CONCURRENCY=1 "${extra[@]}" "$IMG_FARM" service "$name" >/dev/null 2> >(nosystemd)
}
for s in "${SERVICES[@]}"; do run_service "$s"; done

step "waiting for every service to be healthy (the image's HEALTHCHECK)"
for s in "${SERVICES[@]}"; do
  ok=""
  for _ in $(seq 1 30); do
    if "${PODMAN[@]}" healthcheck run "$ID-$s" >/dev/null 2>&1; then ok=1; break; fi
    [ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$ID-$s")" = true ] || fail "$s exited"
    sleep 2
  done
  [ -n "$ok" ] || fail "$s never became healthy"
  echo "$s healthy"
done

client() {
  "${PODMAN[@]}" run --rm --pod "$POD" --label "farm-ct=$ID" "${ULIMITS[@]}" "${NOHC_TIMER[@]}" \
    -e "NATS_URL=$NATS_URL" -e NATS_USER=farm-client -e "NATS_PASSWORD=${PASS[CLIENT]}" -e NATS_INBOX_PREFIX=_INBOX_farm-client \
    "$IMG_FARM" "$@" 2> >(nosystemd)
}

step "farm publish (user farm-client): ${HEAD_SHA:0:10} and its 2 ancestors"
client publish /repos/fixture "$HEAD_SHA" --history 2

step "farm report (user farm-client), until the three reports are there"
for sha in "${SHAS[@]}"; do
  got=""
  for _ in $(seq 1 60); do
    if client report /repos/fixture "$sha" --format json >"$WORK/report-$sha.json" 2>"$WORK/report.err"; then got=1; break; fi
    sleep 2
  done
  [ -n "$got" ] || { cat "$WORK/report.err" >&2; fail "no report for $sha"; }
done

step "checking the reports"
node - "$WORK" "${SHAS[@]}" <<'EOF'
const fs = require("node:fs");
const [dir, s0, s1, s2] = process.argv.slice(2);
const read = (sha) => {
  const j = JSON.parse(fs.readFileSync(`${dir}/report-${sha}.json`, "utf8"));
  return Array.isArray(j) ? j[0] : j;
};
const [r0, r1, r2] = [read(s0), read(s1), read(s2)];
const rules = (r) => r.files.flatMap((f) => f.messages.map((m) => `${f.path}:${m.line}:${m.ruleId}`)).sort();
const expect = (what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    console.error(`FAIL ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
};
expect("report shas", [r0.sha, r1.sha, r2.sha], [s0, s1, s2]);
expect("parents", [r1.parent, r2.parent], [s0, s1]);
expect("files of the first commit", r0.files.map((f) => f.path).sort(), ["index.js"]);
expect("messages of the first commit", rules(r0), []);
expect("messages of the second commit", rules(r1), ["lib/util.js:1:no-undef"]);
expect("messages of the third commit", rules(r2), ["index.js:2:no-unused-vars", "lib/util.js:1:no-undef"]);
expect("summary of the third commit", r2.summary.errors, 2);
expect("new issues of the third commit", r2.delta.new.map((d) => `${d.path}:${d.line}:${d.ruleId}`), ["index.js:2:no-unused-vars"]);
expect("fixed issues of the third commit", r2.delta.fixed, []);
EOF

step "no permission violation in the server log"
if "${PODMAN[@]}" logs "$ID-nats" 2>&1 | grep -i "violation"; then fail "permission violations (above)"; fi
echo "none"

step "SIGTERM: every service stops cleanly"
for s in "${SERVICES[@]}"; do
  "${PODMAN[@]}" stop -t 30 "$ID-$s" >/dev/null 2> >(nosystemd)
  code=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$ID-$s")
  [ "$code" = 0 ] || fail "$s exited with $code after SIGTERM"
  echo "$s stopped (exit 0)"
done

step "PASS: container test"
