package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// inventoryCmd prints the inventory as the runner sees it:
// --list and --host as JSON (like ansible-inventory), --graph as a tree.
func (a *app) inventoryCmd(c *cli.Context) error {
	s, err := a.settings(c)
	if err != nil {
		return err
	}
	inv, err := a.loadInventory(s)
	if err != nil {
		return err
	}
	switch {
	case c.Bool("list"):
		data, err := inv.ListJSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, strings.TrimRight(string(data), "\n"))
	case c.String("host") != "":
		data, err := inv.HostJSON(c.String("host"))
		if err != nil {
			return withCode(exitGeneric, err)
		}
		fmt.Fprintln(a.stdout, strings.TrimRight(string(data), "\n"))
	case c.Bool("graph"):
		out, err := inv.Graph(c.Args().First())
		if err != nil {
			return withCode(exitGeneric, err)
		}
		fmt.Fprint(a.stdout, out)
	default:
		return usageErr("%s", errors.New("inventory: one of --list, --host HOST or --graph is required"))
	}
	return nil
}
