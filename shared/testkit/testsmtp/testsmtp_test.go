package testsmtp_test

import (
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testsmtp"
)

// A message sent with the standard library's SMTP client arrives and is
// readable through the API; a second server is independent of the first.
func TestStartSendRead(t *testing.T) {
	a := testsmtp.Start(t)
	b := testsmtp.Start(t)
	if a.Port == b.Port {
		t.Fatal("two servers on one port")
	}
	msg := "From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nplain body\r\n"
	if err := smtp.SendMail(a.Host+":"+strconv.Itoa(a.Port), nil, "a@example.org", []string{"b@example.org"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := a.To(t, "B@example.org")
	if len(got) != 1 || got[0].Subject != "hello" || strings.TrimSpace(got[0].Text) != "plain body" {
		t.Fatalf("received %+v", got)
	}
	if !strings.Contains(a.Raw(t, got[0].ID), "Subject: hello") {
		t.Fatal("raw message lacks its subject")
	}
	if n := len(b.Messages(t)); n != 0 {
		t.Fatalf("the other server holds %d messages", n)
	}
}

func TestBinaryFromEnvironmentMustExist(t *testing.T) {
	t.Setenv("RADPASS_TEST_MAILPIT", t.TempDir()+"/no-such-mailpit")
	if _, err := testsmtp.Binary(); err == nil {
		t.Fatal("a missing binary was accepted")
	}
	t.Setenv("RADPASS_TEST_MAILPIT", os.Args[0])
	if p, err := testsmtp.Binary(); err != nil || p != os.Args[0] {
		t.Fatalf("Binary() = %q, %v", p, err)
	}
}
