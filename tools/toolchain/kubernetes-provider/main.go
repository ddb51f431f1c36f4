// pulumi-resource-kubernetes, built from github.com/pulumi/pulumi-kubernetes/provider/v4 at the only
// version the Go module proxy serves (go.mod). Upstream's main embeds schema-embed.json and
// terraform-mapping-embed.json, which its go:generate step writes from the module's schema.json and
// terraform-mapping.json and which are gitignored upstream, so the module zip lacks them; this main
// does the same as upstream's, and tools/toolchain/build.sh writes the two files (the schema with
// the version stamped, both re-serialized compactly) from the module before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
