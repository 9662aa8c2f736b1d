package audit

// RecordViewAt is RecordView at a given time (slot tests).
var RecordViewAt = recordViewAt
