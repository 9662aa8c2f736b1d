package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/uptrace/bun"
	"golang.org/x/term"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/store"
)

// usernameRE is the users.username check of the schema, tested here so a bad
// name gets a clear message instead of a constraint violation.
var usernameRE = regexp.MustCompile(`^[a-z0-9._@-]{2,64}$`)

const userUsage = "usage: radpass user add -username U -role staff|admin|servicedesk [-department CODE] [-name N] [-language en|nl|fr|de]\n\nthe password is read from stdin or prompted"

func cmdUser(ctx context.Context, load configLoader, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr(userUsage)
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(out)
	username := fs.String("username", "", "sign-in name (lowercase letters, digits, . _ @ -)")
	role := fs.String("role", store.RoleStaff, "staff, admin or servicedesk")
	dept := fs.String("department", "", "department code (not for servicedesk)")
	name := fs.String("name", "", "display name")
	lang := fs.String("language", "", "display language: en, nl, fr, de (default: browser's)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr("%v", err)
	}
	u := &store.User{Username: strings.ToLower(strings.TrimSpace(*username)), Role: *role, DisplayName: *name, Language: *lang}
	switch {
	case u.Username == "":
		return usageErr("-username is required")
	case !usernameRE.MatchString(u.Username):
		return usageErr("-username must be 2 to 64 of: lowercase letters, digits, . _ @ -")
	case len(u.DisplayName) > 200:
		return usageErr("-name is longer than 200 characters")
	case u.Role != store.RoleStaff && u.Role != store.RoleAdmin && u.Role != store.RoleServiceDesk:
		return usageErr("-role must be staff, admin or servicedesk")
	case u.Role == store.RoleServiceDesk && *dept != "":
		return usageErr("a servicedesk user belongs to no department; leave -department out")
	case u.Role != store.RoleServiceDesk && *dept == "":
		return usageErr("-department is required for role %s", u.Role)
	case u.Language != "" && !i18n.Valid(u.Language):
		return usageErr("-language must be one of en, nl, fr, de")
	case fs.NArg() > 0:
		return usageErr(userUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	pw, err := readPassword(stdin, out)
	if err != nil {
		return err
	}
	if len([]rune(pw)) < auth.MinPasswordLength {
		return usageErr("the password must have at least %d characters", auth.MinPasswordLength)
	}
	if u.PasswordHash, err = auth.HashPassword(pw); err != nil {
		return err
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
		u.DepartmentID = &d.ID
	}
	err = store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, &audit.Event{Action: audit.UserCreated, ActorKind: "system", ActorName: "cli",
			DepartmentID: u.DepartmentID, Details: map[string]any{"username": u.Username, "role": u.Role}})
	})
	if store.IsUniqueViolation(err) {
		return &exitError{1, fmt.Errorf("username %q is taken", u.Username)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s created (%s)\n", u.Username, u.Role)
	return nil
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
