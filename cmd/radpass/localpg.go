package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/radpass/radpass/shared/localpg"
)

const localpgUsage = "usage: radpass localpg start|stop DIR PORT\n\na throwaway PostgreSQL cluster for tests and benchmarks (TCP on 127.0.0.1, no durability)"

// cmdLocalPG starts or stops a throwaway cluster (used by `make test`):
// radpass localpg start|stop DIR PORT. start prints the admin URL.
func cmdLocalPG(ctx context.Context, args []string, out io.Writer, _ func(string) string) error {
	if len(args) != 3 || (args[0] != "start" && args[0] != "stop") {
		return usageErr(localpgUsage)
	}
	port, err := strconv.Atoi(args[2])
	if err != nil {
		return usageErr("PORT must be a number")
	}
	cl, err := localpg.New(args[1], port)
	if err != nil {
		return err
	}
	if args[0] == "stop" {
		return cl.Stop(ctx)
	}
	if err := cl.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, cl.DSN("postgres"))
	return nil
}
