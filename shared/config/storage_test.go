package config_test

import (
	"errors"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
)

func TestStorageConfig(t *testing.T) {
	c, err := config.Load(env(map[string]string{"RADPASS_DEV": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.S3() || c.Storage.OrphanGrace != 24*time.Hour {
		t.Fatalf("default storage = %+v, want the local folder and a 24h grace", c.Storage)
	}
	c, err = config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_S3_ENDPOINT": "http://127.0.0.1:7070",
		"RADPASS_S3_BUCKET": "radpass-dicom", "RADPASS_S3_REGION": "eu-west-1", "RADPASS_STORAGE_ORPHAN_GRACE": "36h"}))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Storage{S3Endpoint: "http://127.0.0.1:7070", S3Bucket: "radpass-dicom", S3Region: "eu-west-1", OrphanGrace: 36 * time.Hour}
	if c.Storage != want || !c.Storage.S3() {
		t.Fatalf("storage = %+v, want %+v", c.Storage, want)
	}
	for _, tt := range []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"RADPASS_S3_ENDPOINT": "https://s3.example.org"}, "RADPASS_S3_BUCKET"},
		{map[string]string{"RADPASS_S3_BUCKET": "Bad_Bucket"}, "RADPASS_S3_BUCKET"},
		{map[string]string{"RADPASS_S3_BUCKET": "ok-bucket", "RADPASS_S3_ENDPOINT": "s3.example.org"}, "RADPASS_S3_ENDPOINT"},
		{map[string]string{"RADPASS_S3_BUCKET": "ok-bucket", "RADPASS_S3_ENDPOINT": "https://s3.example.org/bucket"}, "RADPASS_S3_ENDPOINT"},
		{map[string]string{"RADPASS_S3_BUCKET": "ok-bucket", "RADPASS_S3_ENDPOINT": "https://key:secret@s3.example.org"}, "RADPASS_S3_ENDPOINT"},
		{map[string]string{"RADPASS_S3_BUCKET": "ok-bucket", "RADPASS_S3_ENDPOINT": "http://minio.internal:9000"}, "RADPASS_S3_ENDPOINT"},
		{map[string]string{"RADPASS_STORAGE_ORPHAN_GRACE": "0s"}, "RADPASS_STORAGE_ORPHAN_GRACE"},
	} {
		tt.env["RADPASS_DEV"] = "1"
		_, err := config.Load(env(tt.env))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != tt.wantVar {
			t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.wantVar)
		}
	}
}
