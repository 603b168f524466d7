package gormstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fromJSONList's fast path must agree with encoding/json on every input,
// and hand whatever it does not take to encoding/json.
func TestFromJSONListMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[]`, `[""]`, `["a"]`, `["acc_1","acc_2","acc_3"]`, `["openid","offline_access"]`,
		`["https://vendor.example/cb?x=1&y=2"]`, `["a", "b"]`, `[ "a"]`, `["a\"b"]`, `["a\\b"]`,
		`["\u00e9t\u00e9"]`, `["été","naïve"]`, `["a","b",]`, `["a"`, `"a"]`, `["a""b"]`, "[\"a\tb\"]",
		"[\"\xff\"]", `null`, `["a","","c"]`,
	} {
		var want []string
		werr := json.Unmarshal([]byte(in), &want)
		if len(want) == 0 {
			want = nil
		}
		got, err := fromJSONList(in)
		if (err != nil) != (werr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Errorf("fromJSONList(%q) = %q, %v; encoding/json: %q, %v", in, got, err, want, werr)
		}
	}
	ids := make([]string, 400)
	for i := range ids {
		ids[i] = "acc_" + string(rune('a'+i%26)) + "x"
	}
	got, err := fromJSONList(jsonList(ids))
	if err != nil || !reflect.DeepEqual(got, ids) {
		t.Errorf("round trip of 400 IDs: %v", err)
	}
}
