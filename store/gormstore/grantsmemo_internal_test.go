package gormstore

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// decodeGrants answers as encoding/json does, the first time and from the
// memo, errors included (what a failed decode leaves is not used), and
// hands each caller a copy of its own.
func TestDecodeGrantsMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[]`, `null`, `[{"permission":"account_summary","rights":["View"],"selfApproved":[]}]`,
		`[{"permission":"manage_users","rights":["View","Edit","Approve"],"selfApproved":["View"]},{"permission":"account_summary","rights":["View"],"selfApproved":[]}]`,
		`[{"permission":"account_summary","rights":["Fly"],"selfApproved":[]}]`, `[{`, ``,
	} {
		var want store.Grants
		werr := json.Unmarshal([]byte(in), &want)
		for i := range 2 { // the decode, then the memo
			got, err := decodeGrants(in)
			if (err != nil) != (werr != nil) || werr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("decodeGrants(%q) #%d = %#v, %v; encoding/json: %#v, %v", in, i, got, err, want, werr)
			}
			if len(got) > 0 {
				got[0].Rights = 0 // the next caller must not see this
			}
		}
	}
}

// A role whose grants change has another text: it is decoded afresh.
func TestDecodeGrantsFollowsTheText(t *testing.T) {
	view := `[{"permission":"account_summary","rights":["View"],"selfApproved":[]}]`
	none := `[{"permission":"account_summary","rights":[],"selfApproved":[]}]`
	for _, c := range []struct {
		text string
		want store.RightSet
	}{{view, store.Rights(store.RightView)}, {none, 0}, {view, store.Rights(store.RightView)}} {
		g, err := decodeGrants(c.text)
		if err != nil || g.Rights(store.PermAccountSummary) != c.want {
			t.Fatalf("decodeGrants(%s) = %v, %v; want rights %v", c.text, g, err, c.want)
		}
	}
}
