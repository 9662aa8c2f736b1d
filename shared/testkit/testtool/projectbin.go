package testtool

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ProjectBinary finds a program make test builds into the project's bin/
// (Mailpit, versitygw): the path in the environment variable env, else
// bin/name under the module root, else name on PATH.
func ProjectBinary(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", env, p, err)
		}
		return p, nil
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("no %s: set %s, or run scripts/deps.sh test (installs bin/%s)", name, env, name)
	}
	return p, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// RadpassEnv names the radpass binary scripts/test.sh has already built
// (bin/radpass, for the throwaway PostgreSQL) with the flags of the tests:
// tests that run the real binary use it instead of linking their own copy.
const RadpassEnv = "RADPASS_TEST_RADPASS"

// BuiltRadpass returns the path in RadpassEnv, or "" when the test must
// build radpass itself (go test run by hand, where bin/ may be stale).
func BuiltRadpass() (string, error) {
	p := os.Getenv(RadpassEnv)
	if p == "" {
		return "", nil
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s=%s: %w", RadpassEnv, p, err)
	}
	return p, nil
}
