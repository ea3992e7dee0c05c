// Command etcd is etcd's own server (go.etcd.io/etcd/server/v3/etcdmain) built at the version
// that the pinned Kubernetes release names in its build/dependencies.yaml.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
