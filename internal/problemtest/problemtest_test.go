package problemtest

import (
	"slices"
	"strings"
	"testing"
)

// TestLeakedLooksPastTheInstance: a problem whose instance path holds a
// random ID spelling "sql" reveals nothing; the same words anywhere else
// in the body are found, whatever their case (admin's TestCorruptRequest
// failed on such an ID when the whole body was searched).
func TestLeakedLooksPastTheInstance(t *testing.T) {
	path := "/admin/v1/approvals/apr_c7hhkoxaxsqln6fo62vl/approve"
	clean := `{"type":"urn:bankfeed:problem:internal","title":"Internal Server Error","status":500,` +
		`"detail":"an unexpected error occurred; it has been logged","instance":"` + path + `"}`
	words := []string{"sql", "database", "closed"}
	if got := Leaked([]byte(clean), path, words...); len(got) != 0 {
		t.Errorf("Leaked(clean) = %v, want none", got)
	}
	if got := Leaked([]byte(clean), "", words...); !slices.Equal(got, []string{"sql"}) {
		t.Errorf("Leaked(clean) without its instance = %v, want sql (in the ID)", got)
	}
	dirty := strings.Replace(clean, "it has been logged", "SQL: Database is closed", 1)
	if got := Leaked([]byte(dirty), path, words...); !slices.Equal(got, words) {
		t.Errorf("Leaked(dirty) = %v, want %v", got, words)
	}
}
