// Command radpass is the RadPass server and its admin tool.
//
//	radpass serve                 start the portal
//	radpass migrate up|down|status
//	radpass seed                  demo data (dev mode only)
//	radpass user add ...          create a staff user
//	radpass import ...            import DICOM files, folders and .zip archives
//	radpass token add|list|revoke API tokens of STOW-RS and report upload
//	radpass report add ...        attach a report to a study
//	radpass localpg start|stop    a throwaway PostgreSQL for tests
//	radpass version
//
// `radpass help` prints the arguments of each.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/radpass/radpass/shared/config"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `usage: radpass <command> [arguments]

commands:
  serve                          start the web server
  migrate up|down|status         apply, roll back (last group) or list migrations
  seed                           write demo data (dev mode only, once)
  user add -username U -role R [-department CODE] [-name N] [-language L]
                                 create a staff user; password from stdin or prompt
  import --department CODE PATH...
                                 import DICOM files, folders and .zip archives
  token add --department CODE [--name N] | token list --department CODE | token revoke ID
                                 API tokens for DICOMweb STOW-RS and report upload
  report add --department CODE --study UID --status preliminary|final [--available-at T] FILE
                                 attach a report (UTF-8 text or PDF) to a study
  storage migrate --to s3 [--from DIR] [--jobs N] [--verify]
                                 copy the local DICOM folder to the S3 bucket
  version                        print the version
`

// exitError carries a process exit code (2 = bad usage or configuration).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageErr(format string, a ...any) error {
	return &exitError{2, fmt.Errorf(format, a...)}
}

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Getenv)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "radpass:", err)
	var ee *exitError
	var ce *config.Error
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.As(err, &ce):
		os.Exit(2)
	}
	os.Exit(1)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return usageErr("no command given")
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "radpass", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	u, known := commandUsage[args[0]]
	if !known {
		return usageErr("unknown command %q (try radpass help)", args[0])
	}
	// --help prints the command's usage with no configuration at all.
	if wantsHelp(args[1:]) {
		fmt.Fprintln(stdout, u)
		return nil
	}
	// Every command checks its arguments first and only then reads the
	// configuration (and starts or opens a database): a typo is a usage
	// error, never a PostgreSQL started for nothing.
	load := func() (*config.Config, error) { return config.Load(getenv) }
	switch args[0] {
	case "localpg":
		return cmdLocalPG(ctx, args[1:], stdout, getenv)
	case "serve":
		if len(args) > 1 {
			return usageErr("usage: radpass serve (it takes no arguments)")
		}
		cfg, err := load()
		if err != nil {
			return err
		}
		return cmdServe(ctx, cfg, stdout)
	case "migrate":
		return cmdMigrate(ctx, load, args[1:], stdout)
	case "seed":
		return cmdSeed(ctx, load, args[1:], stdout)
	case "user":
		return cmdUser(ctx, load, args[1:], stdin, stdout)
	case "import":
		return cmdImport(ctx, load, args[1:], stdout)
	case "token":
		return cmdToken(ctx, load, args[1:], stdout)
	case "report":
		return cmdReport(ctx, load, args[1:], stdout)
	case "storage":
		return cmdStorage(ctx, load, args[1:], stdout)
	}
	return usageErr("unknown command %q (try radpass help)", args[0])
}

// configLoader reads the configuration once a command's arguments are valid.
type configLoader func() (*config.Config, error)

// commandUsage is what `radpass COMMAND --help` prints.
var commandUsage = map[string]string{
	"serve":   "usage: radpass serve\n\nstarts the web server (applies pending migrations first); settings come from RADPASS_* variables",
	"migrate": migrateUsage,
	"seed":    "usage: radpass seed [--patients N] [--studies N]\n\nwrites demo data (dev mode only, once); --studies adds N bulk studies by COPY",
	"user":    userUsage,
	"import":  importUsage,
	"token":   tokenUsage,
	"report":  reportUsage,
	"localpg": localpgUsage,
	"storage": storageUsage,
}

// wantsHelp reports -h, -help or --help among a command's arguments.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		case "--":
			return false
		}
	}
	return false
}
