#!/usr/bin/env bash
# The deployable bundle for GPU machines that have no Java: a jlink'd JDK 25 runtime, the jars and the launcher in
# dist/ecar-runtime/, packed as dist/ecar-runtime-linux-x86_64.tar.gz. Run by `./ecar bundle` (mvn -Pbundle package,
# which builds target/ecar.jar and target/lib first). Unpack anywhere and run `./ecar info`.
#
#   runtime/   java.base, java.logging, java.desktop (ImageIO PNGs, JFreeChart charts; headless, so without the
#              X11, splash-screen and sound libraries; native symbol tables stripped), java.management (JMH
#              needs it: tools/gpu_kit.sh runs the benchmarks with this runtime), jdk.unsupported,
#              jdk.incubator.vector; no debug symbols, headers or man pages. The modules image is stored
#              uncompressed (--compress=zip-0) because the outer gzip -9 packs it far better: measured with
#              Temurin 25, zip-9 inside gave a 42.8 MB tarball, zip-0 about 36 MB.
#   lib/       ecar.jar (with the kernel fatbins when nvcc was present), picocli, jfreechart, jackson-core, jcuda, and
#              jcuda-natives for linux-x86_64 cut down to libJCudaDriver (the driver API is all we call)
#   ecar       the launcher (it runs runtime/bin/java when runtime/ and lib/ sit beside it)
#
# Fails when the packed bundle is over 40 MB (40,000,000 bytes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "[bundle] $*"; }
fail() { echo "[bundle] FAILED: $*" >&2; exit 1; }

limit=40000000
name=ecar-runtime
dist=dist
out=$dist/$name
tarball=$dist/$name-linux-x86_64.tar.gz
modules=java.base,java.logging,java.desktop,java.management,jdk.unsupported,jdk.incubator.vector

. tools/jdk.sh
ecar_find_jdk || fail "no JDK 25 found (JAVA_HOME, /usr/lib/jvm, /opt/java, ~/.sdkman, PATH); jlink needs one"
jdk=$ECAR_JAVA_HOME
[ -x "$jdk/bin/jlink" ] || fail "$jdk has no bin/jlink (a JRE, not a JDK)"
[ -f target/ecar.jar ] || fail "target/ecar.jar is missing: build with 'mvn -Pbundle package' or './ecar bundle'"
[ -d target/lib ] || fail "target/lib is missing: build with 'mvn -Pbundle package' or './ecar bundle'"
[ "$(uname -m)" = x86_64 ] || fail "this machine is $(uname -m); the bundle is for linux-x86_64"

rm -rf "$out" "$tarball"
mkdir -p "$out/lib"

say "jlink $modules from $jdk"
# headless only (the launcher sets java.awt.headless): no X11 toolkit, splash screen or sound libraries
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-0 \
  --exclude-files='glob:**/lib/libawt_xawt.so,glob:**/lib/libsplashscreen.so,glob:**/lib/libjsound.so' \
  --output "$out/runtime" || fail "jlink failed (a JDK 25 without jmods must be built with --enable-linkable-runtime)"
# the JDK's native libraries keep their symbol tables (libjvm.so alone 5 MB of them): drop those when strip is here
if command -v strip >/dev/null 2>&1; then
  find "$out/runtime" -name '*.so' -exec strip --strip-unneeded {} +
  say "native libraries stripped of symbol tables"
else
  say "strip (binutils) not found: native libraries keep their symbol tables (about 1.5 MB more packed)"
fi

cp target/ecar.jar "$out/lib/"
for jar in target/lib/*.jar; do
  base=$(basename "$jar")
  case "$base" in
    jcuda-natives-*-linux-x86_64.jar)
      # keep only the driver API's JNI library: the runtime, NVRTC and nvPTXCompiler wrappers are never loaded
      tmp=$(mktemp -d)
      (cd "$tmp" && "$jdk/bin/jar" --extract --file "$root/$jar")
      find "$tmp/lib" -type f ! -name 'libJCudaDriver-*' -delete
      "$jdk/bin/jar" --create --file "$out/lib/$base" -C "$tmp" .
      rm -rf "$tmp"
      ;;
    jcuda-natives-*) say "dropped $base (not linux-x86_64)" ;;
    *) cp "$jar" "$out/lib/" ;;
  esac
done
ls "$out"/lib/jcuda-natives-*-linux-x86_64.jar >/dev/null 2>&1 || fail "no jcuda-natives jar for linux-x86_64 in target/lib"

cp ecar "$out/ecar"
chmod +x "$out/ecar"
kernels=$("$jdk/bin/jar" --list --file target/ecar.jar | sed -n 's|^kernels/\(.*\)\.fatbin$|\1|p' | tr '\n' ' ')
{
  echo "ecar-runtime bundle for linux-x86_64"
  echo "built   $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo 'an unknown commit')"
  echo "java    $("$out/runtime/bin/java" -version 2>&1 | head -1)"
  echo "kernels ${kernels:-none (nvcc was missing at build time: CPU backend only)}"
  echo "run     ./ecar info"
} > "$out/BUNDLE.txt"

tar -C "$dist" -cf - "$name" | gzip -9 > "$tarball"
packed=$(stat -c %s "$tarball")
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
say "$out: $(mb "$(du -sb "$out" | cut -f1)") unpacked (runtime $(mb "$(du -sb "$out/runtime" | cut -f1)"), lib $(mb "$(du -sb "$out/lib" | cut -f1)"))"
say "kernels packaged: ${kernels:-none}"
say "$tarball: $(mb "$packed") packed ($packed bytes; limit $(mb $limit))"
[ "$packed" -le "$limit" ] || fail "$tarball is $(mb "$packed"), over the $(mb $limit) limit"
