package buckets

import (
	"encoding/binary"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/keys"
)

// AnonUIDKey keys the de-identified UIDs of anonymized bucket b
// (deid.NewKeyedUIDMap): its ZIP downloads and its viewer links' DICOMweb
// answers name each study, series and instance the same, so a viewer can
// mix both; another bucket with the same studies gets other UIDs.
func (s *Service) AnonUIDKey(b *database.Bucket) []byte {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(b.ID))
	return keys.Sum(s.Key, keys.AnonUIDs, id[:])
}
