package inventory_test

import (
	"context"
	"fmt"

	"github.com/mdo-play/mdo-play/inventory"
)

// The engine's view: load sources, add the playbook's vars dir, select the
// play's hosts (with --limit), then read each host's variables.
func Example() {
	ctx := context.Background()
	inv, err := inventory.Load(ctx, []string{"testdata/patterns/hosts"}, inventory.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := inv.AddVarsDir("testdata/play"); err != nil {
		fmt.Println(err)
		return
	}
	limit, _ := inventory.ParseLimit("!db", nil)
	hosts, warnings, err := inv.SelectLimit("prod:nosuch", limit)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hosts {
		fmt.Println(h.Name, inv.GroupNames(h), inv.HostVars(h)["play"])
	}
	fmt.Println(warnings)
	// Output:
	// web2.example.com [prod web] 1
	// web3.example.com [prod web] 1
	// web4.example.com [prod stage web] 1
	// [Could not match supplied host pattern, ignoring: nosuch]
}
