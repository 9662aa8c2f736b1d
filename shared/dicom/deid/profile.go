package deid

import "github.com/suyashkumar/dicom/pkg/tag"

// Action is one of the de-identification actions of PS3.15 Table E.1-1.
type Action byte

// The actions of PS3.15 E.1.1 this package applies. Where the basic profile
// allows a choice (X/Z, X/Z/D, Z/D…) the table below takes the strongest one
// that keeps the object valid: X (remove) for type 3 attributes, Z (empty)
// for type 2 ones, D (dummy value) where the attribute is type 1.
const (
	Keep       Action = 'K' // retain
	Remove     Action = 'X' // remove the attribute
	Empty      Action = 'Z' // zero length value
	Dummy      Action = 'D' // non-zero dummy value consistent with the VR
	ReplaceUID Action = 'U' // replace with a new UID, consistently (UIDMap)
	Recurse    Action = 'R' // keep the sequence, de-identify its items (X/Z/U* on a sequence)
)

func t(g, e uint16) tag.Tag { return tag.Tag{Group: g, Element: e} }

// Basic is the Basic Application Level Confidentiality Profile (PS3.15
// Annex E, Table E.1-1, "Basic Prof." column) for the attributes it lists.
// Attributes not listed are kept; private attributes are always removed;
// curve (50xx) and overlay comments/data (60xx,3000/4000) are handled in
// ActionFor. Sequences not listed are kept and processed recursively.
var Basic = map[tag.Tag]Action{
	// file meta information: the instance UID (Apply also sets it to the
	// new SOP Instance UID) and what names the sending system
	t(0x0002, 0x0003): ReplaceUID, // Media Storage SOP Instance UID
	t(0x0002, 0x0016): Remove,     // Source Application Entity Title
	t(0x0002, 0x0017): Remove,     // Sending Application Entity Title
	t(0x0002, 0x0018): Remove,     // Receiving Application Entity Title
	t(0x0002, 0x0100): Remove,     // Private Information Creator UID
	t(0x0002, 0x0102): Remove,     // Private Information

	t(0x0004, 0x1511): ReplaceUID, // Referenced SOP Instance UID in File

	t(0x0008, 0x0012): Remove,     // Instance Creation Date (X/D)
	t(0x0008, 0x0013): Remove,     // Instance Creation Time (X/Z/D)
	t(0x0008, 0x0014): ReplaceUID, // Instance Creator UID
	t(0x0008, 0x0015): Remove,     // Instance Coercion DateTime
	t(0x0008, 0x0017): ReplaceUID, // Acquisition UID
	t(0x0008, 0x0018): ReplaceUID, // SOP Instance UID
	t(0x0008, 0x0019): ReplaceUID, // Pyramid UID
	t(0x0008, 0x0020): Empty,      // Study Date
	t(0x0008, 0x0021): Remove,     // Series Date (X/D)
	t(0x0008, 0x0022): Remove,     // Acquisition Date (X/D)
	t(0x0008, 0x0023): Empty,      // Content Date (Z/D)
	t(0x0008, 0x0024): Remove,     // Overlay Date
	t(0x0008, 0x0025): Remove,     // Curve Date
	t(0x0008, 0x002A): Remove,     // Acquisition DateTime (X/D)
	t(0x0008, 0x0030): Empty,      // Study Time
	t(0x0008, 0x0031): Remove,     // Series Time (X/D)
	t(0x0008, 0x0032): Remove,     // Acquisition Time (X/D)
	t(0x0008, 0x0033): Empty,      // Content Time (Z/D)
	t(0x0008, 0x0034): Remove,     // Overlay Time
	t(0x0008, 0x0035): Remove,     // Curve Time
	t(0x0008, 0x0050): Empty,      // Accession Number
	t(0x0008, 0x0058): ReplaceUID, // Failed SOP Instance UID List
	t(0x0008, 0x0080): Remove,     // Institution Name (X/Z/D)
	t(0x0008, 0x0081): Remove,     // Institution Address
	t(0x0008, 0x0082): Remove,     // Institution Code Sequence (X/Z/D)
	t(0x0008, 0x0090): Empty,      // Referring Physician's Name
	t(0x0008, 0x0092): Remove,     // Referring Physician's Address
	t(0x0008, 0x0094): Remove,     // Referring Physician's Telephone Numbers
	t(0x0008, 0x0096): Remove,     // Referring Physician Identification Sequence
	t(0x0008, 0x009C): Empty,      // Consulting Physician's Name
	t(0x0008, 0x009D): Remove,     // Consulting Physician Identification Sequence
	t(0x0008, 0x0201): Remove,     // Timezone Offset From UTC
	t(0x0008, 0x1010): Remove,     // Station Name (X/Z/D)
	t(0x0008, 0x1030): Remove,     // Study Description
	t(0x0008, 0x103E): Remove,     // Series Description
	t(0x0008, 0x1040): Remove,     // Institutional Department Name
	t(0x0008, 0x1041): Remove,     // Institutional Department Type Code Sequence
	t(0x0008, 0x1048): Remove,     // Physician(s) of Record
	t(0x0008, 0x1049): Remove,     // Physician(s) of Record Identification Sequence
	t(0x0008, 0x1050): Remove,     // Performing Physician's Name
	t(0x0008, 0x1052): Remove,     // Performing Physician Identification Sequence
	t(0x0008, 0x1060): Remove,     // Name of Physician(s) Reading Study
	t(0x0008, 0x1062): Remove,     // Physician(s) Reading Study Identification Sequence
	t(0x0008, 0x1070): Remove,     // Operators' Name (X/Z/D)
	t(0x0008, 0x1072): Remove,     // Operator Identification Sequence (X/D)
	t(0x0008, 0x1080): Remove,     // Admitting Diagnoses Description
	t(0x0008, 0x1084): Remove,     // Admitting Diagnoses Code Sequence
	t(0x0008, 0x1110): Remove,     // Referenced Study Sequence (X/Z)
	t(0x0008, 0x1111): Remove,     // Referenced Performed Procedure Step Sequence (X/Z/D)
	t(0x0008, 0x1120): Remove,     // Referenced Patient Sequence
	t(0x0008, 0x1140): Recurse,    // Referenced Image Sequence (X/Z/U*)
	t(0x0008, 0x1155): ReplaceUID, // Referenced SOP Instance UID
	t(0x0008, 0x1195): ReplaceUID, // Transaction UID
	t(0x0008, 0x2111): Remove,     // Derivation Description
	t(0x0008, 0x3010): ReplaceUID, // Irradiation Event UID
	t(0x0008, 0x4000): Remove,     // Identifying Comments
	t(0x0008, 0x9123): ReplaceUID, // Creator-Version UID

	t(0x0010, 0x0010): Empty,  // Patient's Name (replaced by Options.PatientName)
	t(0x0010, 0x0020): Empty,  // Patient ID (replaced by Options.PatientID)
	t(0x0010, 0x0021): Remove, // Issuer of Patient ID
	t(0x0010, 0x0024): Remove, // Issuer of Patient ID Qualifiers Sequence
	t(0x0010, 0x0030): Empty,  // Patient's Birth Date
	t(0x0010, 0x0032): Remove, // Patient's Birth Time
	t(0x0010, 0x0033): Remove, // Patient's Birth Date in Alternative Calendar
	t(0x0010, 0x0034): Remove, // Patient's Death Date in Alternative Calendar
	t(0x0010, 0x0035): Remove, // Patient's Alternative Calendar
	t(0x0010, 0x0040): Empty,  // Patient's Sex
	t(0x0010, 0x0050): Remove, // Patient's Insurance Plan Code Sequence
	t(0x0010, 0x0101): Remove, // Patient's Primary Language Code Sequence
	t(0x0010, 0x0102): Remove, // Patient's Primary Language Modifier Code Sequence
	t(0x0010, 0x1000): Remove, // Other Patient IDs
	t(0x0010, 0x1001): Remove, // Other Patient Names
	t(0x0010, 0x1002): Remove, // Other Patient IDs Sequence
	t(0x0010, 0x1005): Remove, // Patient's Birth Name
	t(0x0010, 0x1010): Remove, // Patient's Age
	t(0x0010, 0x1020): Remove, // Patient's Size
	t(0x0010, 0x1030): Remove, // Patient's Weight
	t(0x0010, 0x1040): Remove, // Patient's Address
	t(0x0010, 0x1050): Remove, // Insurance Plan Identification
	t(0x0010, 0x1060): Remove, // Patient's Mother's Birth Name
	t(0x0010, 0x1080): Remove, // Military Rank
	t(0x0010, 0x1081): Remove, // Branch of Service
	t(0x0010, 0x1090): Remove, // Medical Record Locator
	t(0x0010, 0x1100): Remove, // Referenced Patient Photo Sequence
	t(0x0010, 0x2000): Remove, // Medical Alerts
	t(0x0010, 0x2110): Remove, // Allergies
	t(0x0010, 0x2150): Remove, // Country of Residence
	t(0x0010, 0x2152): Remove, // Region of Residence
	t(0x0010, 0x2154): Remove, // Patient's Telephone Numbers
	t(0x0010, 0x2155): Remove, // Patient's Telecom Information
	t(0x0010, 0x2160): Remove, // Ethnic Group
	t(0x0010, 0x2180): Remove, // Occupation
	t(0x0010, 0x21A0): Remove, // Smoking Status
	t(0x0010, 0x21B0): Remove, // Additional Patient History
	t(0x0010, 0x21C0): Remove, // Pregnancy Status
	t(0x0010, 0x21D0): Remove, // Last Menstrual Date
	t(0x0010, 0x21F0): Remove, // Patient's Religious Preference
	t(0x0010, 0x2203): Remove, // Patient's Sex Neutered (X/Z)
	t(0x0010, 0x2297): Remove, // Responsible Person
	t(0x0010, 0x2299): Remove, // Responsible Organization
	t(0x0010, 0x4000): Remove, // Patient Comments

	t(0x0012, 0x0010): Dummy,  // Clinical Trial Sponsor Name
	t(0x0012, 0x0020): Dummy,  // Clinical Trial Protocol ID
	t(0x0012, 0x0021): Empty,  // Clinical Trial Protocol Name
	t(0x0012, 0x0030): Empty,  // Clinical Trial Site ID
	t(0x0012, 0x0031): Empty,  // Clinical Trial Site Name
	t(0x0012, 0x0040): Dummy,  // Clinical Trial Subject ID
	t(0x0012, 0x0042): Dummy,  // Clinical Trial Subject Reading ID
	t(0x0012, 0x0050): Empty,  // Clinical Trial Time Point ID
	t(0x0012, 0x0051): Remove, // Clinical Trial Time Point Description
	t(0x0012, 0x0060): Empty,  // Clinical Trial Coordinating Center Name
	t(0x0012, 0x0071): Remove, // Clinical Trial Series ID
	t(0x0012, 0x0072): Remove, // Clinical Trial Series Description
	t(0x0012, 0x0081): Dummy,  // Clinical Trial Protocol Ethics Committee Name
	t(0x0012, 0x0082): Empty,  // Clinical Trial Protocol Ethics Committee Approval Number

	t(0x0018, 0x0010): Empty,      // Contrast/Bolus Agent (Z/D)
	t(0x0018, 0x1000): Remove,     // Device Serial Number (X/Z/D)
	t(0x0018, 0x1002): ReplaceUID, // Device UID
	t(0x0018, 0x1004): Remove,     // Plate ID
	t(0x0018, 0x1005): Remove,     // Generator ID
	t(0x0018, 0x1007): Remove,     // Cassette ID
	t(0x0018, 0x1008): Remove,     // Gantry ID
	t(0x0018, 0x1030): Remove,     // Protocol Name (X/D)
	t(0x0018, 0x1200): Remove,     // Date of Last Calibration
	t(0x0018, 0x1201): Remove,     // Time of Last Calibration
	t(0x0018, 0x1202): Remove,     // DateTime of Last Calibration
	t(0x0018, 0x1400): Remove,     // Acquisition Device Processing Description (X/D)
	t(0x0018, 0x2042): ReplaceUID, // Target UID
	t(0x0018, 0x4000): Remove,     // Acquisition Comments
	t(0x0018, 0x700A): Remove,     // Detector ID (X/D)
	t(0x0018, 0x9424): Remove,     // Acquisition Protocol Description
	t(0x0018, 0xA003): Remove,     // Contribution Description

	t(0x0020, 0x000D): ReplaceUID, // Study Instance UID
	t(0x0020, 0x000E): ReplaceUID, // Series Instance UID
	t(0x0020, 0x0010): Empty,      // Study ID
	t(0x0020, 0x0052): ReplaceUID, // Frame of Reference UID
	t(0x0020, 0x0200): ReplaceUID, // Synchronization Frame of Reference UID
	t(0x0020, 0x0242): ReplaceUID, // SOP Instance UID of Concatenation Source
	t(0x0020, 0x3401): Remove,     // Modifying Device ID
	t(0x0020, 0x3404): Remove,     // Modifying Device Manufacturer
	t(0x0020, 0x3406): Remove,     // Modified Image Description
	t(0x0020, 0x4000): Remove,     // Image Comments
	t(0x0020, 0x9158): Remove,     // Frame Comments
	t(0x0020, 0x9161): ReplaceUID, // Concatenation UID
	t(0x0020, 0x9164): ReplaceUID, // Dimension Organization UID

	t(0x0028, 0x1199): ReplaceUID, // Palette Color Lookup Table UID
	t(0x0028, 0x1214): ReplaceUID, // Large Palette Color Lookup Table UID
	t(0x0028, 0x4000): Remove,     // Image Presentation Comments

	t(0x0032, 0x0012): Remove, // Study ID Issuer
	t(0x0032, 0x1000): Remove, // Scheduled Study Start Date
	t(0x0032, 0x1001): Remove, // Scheduled Study Start Time
	t(0x0032, 0x1010): Remove, // Scheduled Study Stop Date
	t(0x0032, 0x1011): Remove, // Scheduled Study Stop Time
	t(0x0032, 0x1020): Remove, // Scheduled Study Location
	t(0x0032, 0x1021): Remove, // Scheduled Study Location AE Title
	t(0x0032, 0x1030): Remove, // Reason for Study
	t(0x0032, 0x1032): Remove, // Requesting Physician
	t(0x0032, 0x1033): Remove, // Requesting Service
	t(0x0032, 0x1050): Remove, // Study Completion Date
	t(0x0032, 0x1051): Remove, // Study Completion Time
	t(0x0032, 0x1060): Remove, // Requested Procedure Description (X/Z)
	t(0x0032, 0x1070): Remove, // Requested Contrast Agent
	t(0x0032, 0x4000): Remove, // Study Comments

	t(0x0038, 0x0004): Remove, // Referenced Patient Alias Sequence
	t(0x0038, 0x0010): Remove, // Admission ID
	t(0x0038, 0x0011): Remove, // Issuer of Admission ID
	t(0x0038, 0x0014): Remove, // Issuer of Admission ID Sequence
	t(0x0038, 0x0020): Remove, // Admitting Date
	t(0x0038, 0x0021): Remove, // Admitting Time
	t(0x0038, 0x0060): Remove, // Service Episode ID
	t(0x0038, 0x0061): Remove, // Issuer of Service Episode ID
	t(0x0038, 0x0062): Remove, // Service Episode Description
	t(0x0038, 0x0300): Remove, // Current Patient Location
	t(0x0038, 0x0400): Remove, // Patient's Institution Residence
	t(0x0038, 0x0500): Remove, // Patient State
	t(0x0038, 0x1234): Remove, // Referenced Patient Alias Sequence (retired)
	t(0x0038, 0x4000): Remove, // Visit Comments

	t(0x0040, 0x0001): Remove,     // Scheduled Station AE Title
	t(0x0040, 0x0002): Remove,     // Scheduled Procedure Step Start Date
	t(0x0040, 0x0003): Remove,     // Scheduled Procedure Step Start Time
	t(0x0040, 0x0004): Remove,     // Scheduled Procedure Step End Date
	t(0x0040, 0x0005): Remove,     // Scheduled Procedure Step End Time
	t(0x0040, 0x0006): Remove,     // Scheduled Performing Physician's Name
	t(0x0040, 0x0007): Remove,     // Scheduled Procedure Step Description
	t(0x0040, 0x0009): Remove,     // Scheduled Procedure Step ID
	t(0x0040, 0x000B): Remove,     // Scheduled Performing Physician Identification Sequence
	t(0x0040, 0x0010): Remove,     // Scheduled Station Name
	t(0x0040, 0x0011): Remove,     // Scheduled Procedure Step Location
	t(0x0040, 0x0012): Remove,     // Pre-Medication
	t(0x0040, 0x0100): Remove,     // Scheduled Procedure Step Sequence
	t(0x0040, 0x0241): Remove,     // Performed Station AE Title
	t(0x0040, 0x0242): Remove,     // Performed Station Name
	t(0x0040, 0x0243): Remove,     // Performed Location
	t(0x0040, 0x0244): Remove,     // Performed Procedure Step Start Date
	t(0x0040, 0x0245): Remove,     // Performed Procedure Step Start Time
	t(0x0040, 0x0250): Remove,     // Performed Procedure Step End Date
	t(0x0040, 0x0251): Remove,     // Performed Procedure Step End Time
	t(0x0040, 0x0253): Remove,     // Performed Procedure Step ID
	t(0x0040, 0x0254): Remove,     // Performed Procedure Step Description
	t(0x0040, 0x0275): Remove,     // Request Attributes Sequence
	t(0x0040, 0x0280): Remove,     // Comments on the Performed Procedure Step
	t(0x0040, 0x0555): Remove,     // Acquisition Context Sequence
	t(0x0040, 0x0554): ReplaceUID, // Specimen UID
	t(0x0040, 0x1001): Remove,     // Requested Procedure ID
	t(0x0040, 0x1004): Remove,     // Patient Transport Arrangements
	t(0x0040, 0x1005): Remove,     // Requested Procedure Location
	t(0x0040, 0x1010): Remove,     // Names of Intended Recipients of Results
	t(0x0040, 0x1011): Remove,     // Intended Recipients of Results Identification Sequence
	t(0x0040, 0x1101): Remove,     // Person Identification Code Sequence
	t(0x0040, 0x1102): Remove,     // Person's Address
	t(0x0040, 0x1103): Remove,     // Person's Telephone Numbers
	t(0x0040, 0x1104): Remove,     // Person's Telecom Information
	t(0x0040, 0x1400): Remove,     // Requested Procedure Comments
	t(0x0040, 0x2001): Remove,     // Reason for the Imaging Service Request
	t(0x0040, 0x2008): Remove,     // Order Entered By
	t(0x0040, 0x2009): Remove,     // Order Enterer's Location
	t(0x0040, 0x2010): Remove,     // Order Callback Phone Number
	t(0x0040, 0x2011): Remove,     // Order Callback Telecom Information
	t(0x0040, 0x2016): Empty,      // Placer Order Number / Imaging Service Request
	t(0x0040, 0x2017): Empty,      // Filler Order Number / Imaging Service Request
	t(0x0040, 0x2400): Remove,     // Imaging Service Request Comments
	t(0x0040, 0x3001): Remove,     // Confidentiality Constraint on Patient Data Description
	t(0x0040, 0x4023): ReplaceUID, // Referenced General Purpose Scheduled Procedure Step Transaction UID
	t(0x0040, 0xA027): Remove,     // Verifying Organization
	t(0x0040, 0xA030): Dummy,      // Verification DateTime (D)
	t(0x0040, 0xA075): Dummy,      // Verifying Observer Name (D)
	t(0x0040, 0xA078): Remove,     // Author Observer Sequence
	t(0x0040, 0xA07A): Remove,     // Participant Sequence
	t(0x0040, 0xA07C): Remove,     // Custodial Organization Sequence
	t(0x0040, 0xA088): Empty,      // Verifying Observer Identification Code Sequence
	t(0x0040, 0xA123): Dummy,      // Person Name (D)
	t(0x0040, 0xA124): ReplaceUID, // UID
	t(0x0040, 0xA171): ReplaceUID, // Observation UID
	t(0x0040, 0xA172): ReplaceUID, // Referenced Observation UID (Trial)
	t(0x0040, 0xA402): ReplaceUID, // Observation Subject UID (Trial)
	t(0x0040, 0xA730): Remove,     // Content Sequence (X for images; SR documents are not downloaded)
	t(0x0040, 0xDB0C): ReplaceUID, // Template Extension Organization UID
	t(0x0040, 0xDB0D): ReplaceUID, // Template Extension Creator UID

	t(0x0062, 0x0021): ReplaceUID, // Tracking UID
	t(0x0064, 0x0003): ReplaceUID, // Source Frame of Reference UID

	t(0x0070, 0x0084): Empty,      // Content Creator's Name
	t(0x0070, 0x0086): Remove,     // Content Creator's Identification Code Sequence
	t(0x0070, 0x031A): ReplaceUID, // Fiducial UID

	t(0x0088, 0x0140): ReplaceUID, // Storage Media File-set UID
	t(0x0088, 0x0200): Remove,     // Icon Image Sequence
	t(0x0088, 0x0904): Remove,     // Topic Title
	t(0x0088, 0x0906): Remove,     // Topic Subject
	t(0x0088, 0x0910): Remove,     // Topic Author
	t(0x0088, 0x0912): Remove,     // Topic Keywords

	t(0x3006, 0x0024): ReplaceUID, // Referenced Frame of Reference UID
	t(0x3006, 0x00C2): ReplaceUID, // Related Frame of Reference UID
	t(0x300A, 0x0013): ReplaceUID, // Dose Reference UID
	t(0x300A, 0x0650): ReplaceUID, // Patient Setup UID
	t(0x300A, 0x0700): ReplaceUID, // Treatment Session UID
	t(0x3010, 0x0006): ReplaceUID, // Conceptual Volume UID

	t(0x0400, 0x0100): Remove, // Digital Signature UID
	t(0x0400, 0x0402): Remove, // Referenced Digital Signature Sequence
	t(0x0400, 0x0403): Remove, // Referenced SOP Instance MAC Sequence
	t(0x0400, 0x0404): Remove, // MAC
	t(0x0400, 0x0500): Remove, // Encrypted Attributes Sequence
	t(0x0400, 0x0550): Remove, // Modified Attributes Sequence
	t(0x0400, 0x0561): Remove, // Original Attributes Sequence

	t(0x4000, 0x0010): Remove, // Arbitrary
	t(0x4000, 0x4000): Remove, // Text Comments
	t(0x4008, 0x0042): Remove, // Results ID Issuer
	t(0x4008, 0x0102): Remove, // Interpretation Recorder
	t(0x4008, 0x010A): Remove, // Interpretation Transcriber
	t(0x4008, 0x010B): Remove, // Interpretation Text
	t(0x4008, 0x010C): Remove, // Interpretation Author
	t(0x4008, 0x0111): Remove, // Interpretation Approver Sequence
	t(0x4008, 0x0114): Remove, // Physician Approving Interpretation
	t(0x4008, 0x0115): Remove, // Interpretation Diagnosis Description
	t(0x4008, 0x0118): Remove, // Results Distribution List Sequence
	t(0x4008, 0x0119): Remove, // Distribution Name
	t(0x4008, 0x011A): Remove, // Distribution Address
	t(0x4008, 0x0202): Remove, // Interpretation ID Issuer
	t(0x4008, 0x0300): Remove, // Impressions
	t(0x4008, 0x4000): Remove, // Results Comments

	t(0xFFFA, 0xFFFA): Remove, // Digital Signatures Sequence
	t(0xFFFC, 0xFFFC): Remove, // Data Set Trailing Padding
}

// ActionFor is the profile's action for t: private attributes, group
// lengths, curves and overlay data/comments are removed; listed attributes
// get their table action; everything else is kept.
func ActionFor(tg tag.Tag) Action {
	switch {
	case tg.Group&1 == 1 && tg.Group > 0x0008 && tg.Group != 0xFFFF:
		return Remove // private attribute or private creator (E.3.1 retains none)
	case tg.Element == 0x0000 && tg.Group != 0x0002:
		return Remove // group length (retired; stale once values change)
	case tg.Group >= 0x5000 && tg.Group <= 0x50FF:
		return Remove // curve data (50xx,xxxx)
	case tg.Group >= 0x6000 && tg.Group <= 0x60FF && (tg.Element == 0x3000 || tg.Element == 0x4000):
		return Remove // overlay data and comments
	}
	if a, ok := Basic[tg]; ok {
		return a
	}
	return Keep
}
