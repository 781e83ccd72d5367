# apt-get that waits for another apt-get or dpkg to finish instead of failing at once; sourced by
# provision.sh. Installing waits on dpkg's lock through DPkg::Lock::Timeout; `apt-get update` does not
# honour it for the package lists' lock (apt 2.6), so it is tried again while that lock is held.
APT_LOCK_TIMEOUT="${APT_LOCK_TIMEOUT:-600}"

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT" "$@"
}

# apt_update [apt-get options...]: `apt-get update -qq`, waiting up to APT_LOCK_TIMEOUT seconds for the lists' lock.
apt_update() {
  local deadline=$((SECONDS + APT_LOCK_TIMEOUT)) said="" err
  while :; do
    if err="$(apt_get "$@" update -qq 2>&1 >/dev/null)"; then return 0; fi
    if [[ "$err" != *"Could not get lock"* ]] || [ "$SECONDS" -ge "$deadline" ]; then
      printf '%s\n' "$err" >&2
      return 1
    fi
    if [ -z "$said" ]; then
      printf 'provision: another apt-get holds the package lists; waiting for it (at most %s s)\n' "$APT_LOCK_TIMEOUT" >&2
      said=1
    fi
    sleep 2
  done
}
