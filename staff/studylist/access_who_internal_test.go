package studylist

import (
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/i18n"
)

// The study's access list names each kind of reader: the patient, a doctor
// through a share, a viewer link (DICOMweb), a staff user.
func TestAccessWhoNamesEveryKind(t *testing.T) {
	bucket := int64(42)
	for _, tt := range []struct {
		a    audit.Access
		want string
	}{
		{audit.Access{ActorKind: audit.KindPatient, ActorName: "bucket:42", BucketID: &bucket}, "Patient of bucket #42"},
		{audit.Access{ActorKind: audit.KindShare, ActorName: "share:7", BucketID: &bucket}, "A doctor through share #7 of bucket #42"},
		{audit.Access{ActorKind: audit.KindLink, ActorName: "link:9", BucketID: &bucket}, "Viewer link #9 of bucket #42"},
		{audit.Access{ActorKind: audit.KindStaff, ActorName: "ann"}, "Staff user ann"},
	} {
		if got := accessWho(i18n.For("en"), &tt.a); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.a.ActorKind, got, tt.want)
		}
	}
}
