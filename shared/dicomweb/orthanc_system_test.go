package dicomweb_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// orthancPlugin is where Debian's orthanc-dicomweb puts the plugin.
const orthancPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

// orthanc is the one Orthanc (with its DICOMweb plugin) of this test
// binary, started on loopback by the first test that needs it and stopped
// by TestMain.
var orthanc struct {
	once sync.Once
	url  string
	cmd  *exec.Cmd
	done chan error // Wait's result (one goroutine waits)
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if orthanc.cmd != nil && orthanc.cmd.Process != nil {
		_ = orthanc.cmd.Process.Kill()
		<-orthanc.done
	}
	if orthanc.dir != "" {
		_ = os.RemoveAll(orthanc.dir)
	}
	os.Exit(code)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startOrthanc returns the base URL of the binary's Orthanc (its REST API).
func startOrthanc(t testing.TB) string {
	t.Helper()
	bin := testtool.Path(t, "Orthanc")
	if _, err := os.Stat(orthancPlugin); err != nil {
		t.Fatalf("the Orthanc DICOMweb plugin is not installed (scripts/deps.sh test installs orthanc-dicomweb): %v", err)
	}
	orthanc.once.Do(func() {
		orthanc.dir, orthanc.err = os.MkdirTemp("", "radpass-orthanc-")
		if orthanc.err != nil {
			return
		}
		// The HTTP port is free when picked but may be taken before Orthanc
		// binds it (other tests pick ports too): a few attempts. Orthanc's
		// DICOM listener is off, the tests use its REST and DICOMweb only.
	attempts:
		for attempt := 0; attempt < 3; attempt++ {
			port := freePort(t)
			cfg := map[string]any{
				"Name": "radpass-test", "StorageDirectory": filepath.Join(orthanc.dir, "db"), "IndexDirectory": filepath.Join(orthanc.dir, "db"),
				"HttpPort": port, "DicomServerEnabled": false, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
				"Plugins": []string{orthancPlugin}, "HttpTimeout": 60,
				"DicomWeb": map[string]any{"Enable": true, "Root": "/dicom-web/"},
			}
			b, _ := json.Marshal(cfg)
			conf := filepath.Join(orthanc.dir, "orthanc.json")
			if orthanc.err = os.WriteFile(conf, b, 0o600); orthanc.err != nil {
				return
			}
			log, _ := os.Create(filepath.Join(orthanc.dir, "orthanc.log"))
			orthanc.cmd = exec.Command(bin, conf)
			orthanc.cmd.Stdout, orthanc.cmd.Stderr = log, log
			orthanc.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test binary
			if orthanc.err = orthanc.cmd.Start(); orthanc.err != nil {
				return
			}
			orthanc.url = fmt.Sprintf("http://127.0.0.1:%d", port)
			// Wait until it answers (or has died): a start, not a timing.
			orthanc.done = make(chan error, 1)
			go func() { orthanc.done <- orthanc.cmd.Wait() }()
			for {
				res, err := http.Get(orthanc.url + "/system")
				if err == nil {
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						return
					}
				}
				select {
				case err := <-orthanc.done:
					out, _ := os.ReadFile(filepath.Join(orthanc.dir, "orthanc.log"))
					orthanc.err = fmt.Errorf("Orthanc exited: %v\n%s", err, out)
					orthanc.cmd = nil
					continue attempts
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	})
	if orthanc.err != nil {
		t.Fatalf("start Orthanc: %v", orthanc.err)
	}
	return orthanc.url
}

// orthancDo sends one REST call to Orthanc and decodes its JSON answer into out (if not nil).
func orthancDo(t testing.TB, method, u string, body any, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		log, _ := os.ReadFile(filepath.Join(orthanc.dir, "orthanc.log"))
		t.Fatalf("Orthanc %s %s: %d %s\n--- log tail:\n%s", method, u, res.StatusCode, b, tail(string(log), 3000))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("Orthanc %s %s: %v\n%s", method, u, err, b)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// orthancStudy retrieves study uid through the viewer link at base into
// Orthanc (registered as DICOMweb server name) and returns the instances
// Orthanc then holds of that study, by SOP Instance UID.
func orthancStudy(t testing.TB, o, name, base, uid string) map[string][]byte {
	t.Helper()
	orthancDo(t, http.MethodPut, o+"/dicom-web/servers/"+name, map[string]any{"Url": base + "/"}, nil)
	orthancDo(t, http.MethodPost, o+"/dicom-web/servers/"+name+"/retrieve", map[string]any{"Resources": []map[string]string{{"Study": uid}}}, nil)
	var found []string
	orthancDo(t, http.MethodPost, o+"/tools/find", map[string]any{"Level": "Study", "Query": map[string]string{"StudyInstanceUID": uid}}, &found)
	if len(found) != 1 {
		t.Fatalf("Orthanc holds %d studies %s after the retrieve", len(found), uid)
	}
	var ids []string
	var insts []struct {
		ID string `json:"ID"`
	}
	orthancDo(t, http.MethodGet, o+"/studies/"+found[0]+"/instances", nil, &insts)
	out := map[string][]byte{}
	for _, in := range insts {
		ids = append(ids, in.ID)
		res, err := http.Get(o + "/instances/" + in.ID + "/file")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("Orthanc's instance %s: %v", in.ID, err)
		}
		out[m.SOPInstanceUID] = b
	}
	return out
}

// Orthanc's DICOMweb plugin, a client nobody here wrote, registers viewer
// links as DICOMweb servers and retrieves whole studies through them: the
// plain access's instances arrive byte for byte as imported, the
// anonymized access's byte for byte as its ZIP has them.
func TestOrthancRetrievesThroughViewerLinkSystem(t *testing.T) {
	o := startOrthanc(t)
	f := newLinkFixture(t)

	got := orthancStudy(t, o, "plain", createLink(t, f.plain), linkStudyUID)
	if len(got) != len(f.files) {
		t.Fatalf("Orthanc has %d instances, the access %d", len(got), len(f.files))
	}
	for sop, b := range f.files {
		if !bytes.Equal(got[sop], b) {
			t.Fatalf("instance %s differs in Orthanc (%d bytes, imported %d)", sop, len(got[sop]), len(b))
		}
	}

	base := createLink(t, f.anon)
	studies := qidoJSON(t, base+"/studies", http.StatusOK)
	uid := firstValue(t, studies[0], "0020000D")
	got = orthancStudy(t, o, "anon", base, uid)
	zipFiles := anonZIP(t, f)
	if len(got) != len(zipFiles) || len(got) == 0 {
		t.Fatalf("Orthanc has %d instances, the ZIP %d", len(got), len(zipFiles))
	}
	for sop, b := range zipFiles {
		if !bytes.Equal(got[sop], b) {
			t.Fatalf("de-identified instance %s differs in Orthanc from the ZIP's", sop)
		}
		if bytes.Contains(got[sop], []byte("PID4242")) || strings.Contains(string(got[sop]), "Doe^Jane") {
			t.Fatalf("instance %s names the patient", sop)
		}
	}
}
