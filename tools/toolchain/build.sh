#!/usr/bin/env bash
# `npm run toolchain`: builds, or finds already built, the pinned binaries into .toolchain/bin/
# and prints each with its version (README "The toolchain").
#
# Each binary is built from a committed Go module of ours under tools/toolchain/<name>/ (go.mod
# and go.sum pin the upstream modules; no upstream source is committed). A build is cached under
# $TRACESTACK_TOOLCHAIN_CACHE (default ~/.cache/tracestack/toolchain), keyed by the module's
# go.mod, go.sum, the package, the version stamp and the Go version: the second run links the
# cached binary in seconds. Stand-ins for what the Go module proxy does not serve are named so.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${TRACESTACK_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tracestack/toolchain}"
bin="$root/.toolchain/bin"
mkdir -p "$bin" "$cache"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
command -v go >/dev/null || { echo "toolchain: no go on PATH (Go 1.26.6 or newer is needed)" >&2; exit 1; }

# build NAME MODULE_DIR PACKAGE LDFLAGS
build() {
  local name="$1" dir="$root/tools/toolchain/$2" pkg="$3" ldflags="$4" key out t0
  # Our own main package, where a module has one (otelcol), is part of the key too.
  key="$(cat "$dir/go.mod" "$dir/go.sum" <(find "$dir" -maxdepth 1 -name '*.go' | LC_ALL=C sort | xargs -r cat) \
    <(printf '%s\n' "$pkg" "$ldflags" "$(go env GOVERSION)") | sha256sum | cut -c1-16)"
  out="$cache/$name-$key/$name"
  if [ -x "$out" ]; then
    echo "toolchain: $name: cached ($out)"
  else
    echo "toolchain: $name: building $pkg (cold: several minutes)"
    t0=$SECONDS
    mkdir -p "$cache/$name-$key.tmp"
    (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$cache/$name-$key.tmp/$name" "$pkg")
    rm -rf "$cache/$name-$key" && mv "$cache/$name-$key.tmp" "$cache/$name-$key"
    echo "toolchain: $name: built in $((SECONDS - t0)) s"
  fi
  ln -sfn "$out" "$bin/$name"
}

pulumi_version="$(cd "$root/tools/toolchain/pulumi" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
build pulumi pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi_version"

# The collector: our own main (tools/toolchain/otelcol/main.go, components.go) with the components
# tracestack renders, every one at the release go.mod pins; BuildInfo.Version is that release.
otelcol_version="$(cd "$root/tools/toolchain/otelcol" && go list -m -f '{{.Version}}' go.opentelemetry.io/collector/otelcol)"
build otelcol-contrib otelcol . \
  "-s -w -X main.version=${otelcol_version#v}"

# Jaeger v2: its v2 tags are no module versions, so go.mod pins the v1-line version on the same
# commit and names the v2 release and commit in two comment lines; `jaeger version` prints them.
jaeger_version="$(sed -n 's|^// jaeger-release: ||p' "$root/tools/toolchain/jaeger/go.mod")"
jaeger_commit="$(sed -n 's|^// jaeger-commit: ||p' "$root/tools/toolchain/jaeger/go.mod")"
jaeger_date="$(cd "$root/tools/toolchain/jaeger" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' github.com/jaegertracing/jaeger)"
jaeger_pkg=github.com/jaegertracing/jaeger/internal/version
build jaeger jaeger github.com/jaegertracing/jaeger/cmd/jaeger \
  "-s -w -X $jaeger_pkg.latestVersion=$jaeger_version -X $jaeger_pkg.commitSHA=$jaeger_commit -X $jaeger_pkg.date=$jaeger_date"

# The integration suite's Kubernetes API server (README "Kubernetes against a real API server"):
# kube-apiserver and kubectl from one k8s.io/kubernetes release (its staging modules replaced by
# their v0.X.Y releases in go.mod), etcd from go.etcd.io/etcd/server/v3 at the release that
# Kubernetes' client requires. TRACESTACK_TOOLCHAIN_KUBE=0 skips them (the Kubernetes
# integration test then fails, saying how to build them).
if [ "${TRACESTACK_TOOLCHAIN_KUBE:-1}" != 0 ]; then
  kube_version="$(sed -n 's|^// kube-release: ||p' "$root/tools/toolchain/kube/go.mod")"
  kube_minor="${kube_version#v1.}"; kube_minor="${kube_minor%%.*}"
  kube_date="$(cd "$root/tools/toolchain/kube" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  kube_pkg=k8s.io/component-base/version
  kube_ldflags="-s -w -X $kube_pkg.gitVersion=$kube_version -X $kube_pkg.gitMajor=1 -X $kube_pkg.gitMinor=$kube_minor -X $kube_pkg.gitTreeState=clean -X $kube_pkg.buildDate=$kube_date"
  build kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
  build kubectl kube k8s.io/kubernetes/cmd/kubectl "$kube_ldflags"
  # Only its garbage collector and namespace controllers run in the suite (kube-up.test.ts): they
  # finish the provider's foreground deletes and a Namespace's deletion; nothing that makes pods.
  build kube-controller-manager kube k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"
  build etcd etcd go.etcd.io/etcd/server/v3 "-s -w"
fi

# The Kubernetes provider (README "The toolchain"; about 11 minutes cold, the longest build), for
# the integration suite's `pulumi up` of the k8s stack against that API server. Built by default;
# TRACESTACK_TOOLCHAIN_KUBE=0 skips it with the three above, TRACESTACK_TOOLCHAIN_K8S_PROVIDER=0
# skips it alone (test/integration/kube-up.test.ts then fails, saying how to build it). Skipped,
# no earlier build stays linked: the engine then finds no kubernetes plugin.
k8s_provider=0
if [ "${TRACESTACK_TOOLCHAIN_KUBE:-1}" != 0 ] && [ "${TRACESTACK_TOOLCHAIN_K8S_PROVIDER:-1}" != 0 ]; then k8s_provider=1; fi
if [ "$k8s_provider" = 1 ]; then
  # Our main (tools/toolchain/kubernetes-provider/main.go, upstream's own
  # five lines) embeds the two files upstream's go:generate writes and gitignores; they are written
  # here from the module's schema.json (version stamped) and terraform-mapping.json.
  k8sp_dir="$root/tools/toolchain/kubernetes-provider"
  k8sp_version="$(cd "$k8sp_dir" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  k8sp_src="$(cd "$k8sp_dir" && go mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')/cmd/pulumi-resource-kubernetes"
  # shellcheck disable=SC2016 # JavaScript template literals, not shell
  node -e '
    const fs = require("node:fs");
    const [src, out, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(`${src}/schema.json`, "utf8"));
    schema.version = version;
    fs.writeFileSync(`${out}/schema-embed.json`, JSON.stringify(schema));
    fs.writeFileSync(`${out}/terraform-mapping-embed.json`, JSON.stringify(JSON.parse(fs.readFileSync(`${src}/terraform-mapping.json`, "utf8"))));
  ' "$k8sp_src" "$k8sp_dir" "${k8sp_version#v}"
  build pulumi-resource-kubernetes kubernetes-provider . \
    "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${k8sp_version#v}"
else
  rm -f "$bin/pulumi-resource-kubernetes"
fi

# The command provider: github.com/pulumi/pulumi-command/provider is not served by the Go module
# proxy in any version (README "The toolchain"); a stand-in of ours speaks its protocol.
ln -sfn "$root/tools/toolchain/command-provider/pulumi-resource-command" "$bin/pulumi-resource-command"

echo "toolchain: $bin"
echo "  pulumi                   $("$bin/pulumi" version)"
echo "  pulumi-resource-command  1.2.1 (stand-in: tools/toolchain/command-provider)"
echo "  otelcol-contrib          $("$bin/otelcol-contrib" --version)"
echo "  jaeger                   $("$bin/jaeger" version 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')"
if [ "${TRACESTACK_TOOLCHAIN_KUBE:-1}" != 0 ]; then
  echo "  kube-apiserver           $("$bin/kube-apiserver" --version)"
  echo "  kubectl                  $("$bin/kubectl" version --client 2>/dev/null | sed -n 's/^Client Version: //p')"
  echo "  kube-controller-manager  $("$bin/kube-controller-manager" --version)"
  echo "  etcd                     $("$bin/etcd" --version | sed -n 's/^etcd Version: //p')"
fi
if [ "$k8s_provider" = 1 ]; then
  echo "  pulumi-resource-kubernetes ${k8sp_version#v}"
fi
