package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/users"
)

const userUsage = "usage: radpass user add -username U -role staff|admin|servicedesk [-department CODE] [-name N] [-language en|nl|fr|de]\n\nthe password is read from stdin or prompted"

func cmdUser(ctx context.Context, load configLoader, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr(userUsage)
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(out)
	username := fs.String("username", "", "sign-in name (lowercase letters, digits, . _ @ -)")
	role := fs.String("role", database.RoleStaff, "staff, admin or servicedesk")
	dept := fs.String("department", "", "department code (not for servicedesk)")
	name := fs.String("name", "", "display name")
	lang := fs.String("language", "", "display language: en, nl, fr, de (default: browser's)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr("%v", err)
	}
	n := users.New{Username: *username, Role: *role, DisplayName: *name, Language: *lang}
	n.Normalize()
	if *dept != "" {
		var placeholder int64 // the code is resolved once the database is open
		n.DepartmentID = &placeholder
	}
	// The password is checked after the flags, so a bad flag is reported
	// before anyone types a password.
	n.Password = strings.Repeat("x", auth.MinPasswordLength)
	if v := n.Validate(); len(v) > 0 {
		return usageErr("%s", cliMessage(v[0], n.Role))
	}
	if fs.NArg() > 0 {
		return usageErr(userUsage)
	}
	// Arguments first, configuration after: a bad flag needs no database.
	cfg, err := load()
	if err != nil {
		return err
	}
	pw, err := readPassword(stdin, out)
	if err != nil {
		return err
	}
	n.Password = pw
	if e := users.CheckPassword(pw); e != nil {
		return usageErr("%s", cliMessage(e, n.Role))
	}
	db, done, err := openMigratedDB(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer done()
	if *dept != "" {
		d, err := departmentByCode(ctx, db, *dept)
		if err != nil {
			return err
		}
		n.DepartmentID = &d.ID
	}
	u, err := users.Create(ctx, db, audit.CLI(), n)
	if v, ok := users.AsInvalid(err); ok && len(v) > 0 {
		if v[0].Key == "users.error.username.taken" {
			return &exitError{1, fmt.Errorf("username %q is taken", n.Username)}
		}
		return usageErr("%s", cliMessage(v[0], n.Role))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s created (%s)\n", u.Username, u.Role)
	return nil
}

// cliMessage words a users rule for the command line (flag names, English).
func cliMessage(e *apperr.Error, role string) string {
	switch e.Key {
	case "users.error.username.required":
		return "-username is required"
	case "users.error.username.format":
		return "-username must be 2 to 64 of: lowercase letters, digits, . _ @ -"
	case "users.error.toolong":
		return fmt.Sprintf("-name is longer than %d characters", users.MaxDisplayName)
	case "users.error.role":
		return "-role must be staff, admin or servicedesk"
	case "users.error.department.required":
		return "-department is required for role " + role
	case "users.error.department.servicedesk":
		return "a servicedesk user belongs to no department; leave -department out"
	case "users.error.language":
		return "-language must be one of en, nl, fr, de"
	case "users.error.password.short":
		return fmt.Sprintf("the password must have at least %d characters", auth.MinPasswordLength)
	case "users.error.password.long":
		return fmt.Sprintf("the password must have at most %d characters", users.MaxPassword)
	}
	return i18n.T("en", e.Key, e.Args...)
}

// readPassword prompts without echo on a terminal, else reads one line.
func readPassword(stdin io.Reader, out io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(out, "password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(out)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
