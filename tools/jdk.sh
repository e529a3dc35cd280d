# Sourced by ./ecar and tools/bundle.sh: finds a JDK 25 or newer and sets ECAR_JAVA_HOME.
# Order: $JAVA_HOME, the JDKs installed in the usual folders (newest first), then `java` on the PATH.

ecar_java_major() {  # prints the feature version of the java at $1/bin/java, or nothing
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  echo "${v%%.*}"
}

ecar_find_jdk() {
  local cand best="" best_major=0 major
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for cand in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$cand" ] && candidates+=("$cand")
  done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for cand in "${candidates[@]}"; do
    [ -x "$cand/bin/java" ] || continue
    major=$(ecar_java_major "$cand")
    [ -n "$major" ] || continue
    if [ "$major" -ge 25 ] && [ "$major" -gt "$best_major" ]; then
      best="$cand"; best_major="$major"
      # an explicit JAVA_HOME that qualifies wins
      [ "$cand" = "${JAVA_HOME:-}" ] && break
    fi
  done
  [ -n "$best" ] || return 1
  ECAR_JAVA_HOME="$best"
}
