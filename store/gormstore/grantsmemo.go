package gormstore

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

// maxGrantsMemo bounds grantsMemo: past it the memo starts again empty.
const maxGrantsMemo = 4096

// grantsMemo remembers what each job role grants text decoded to. Every
// data-API page, token and consent page judges the caller's job role, and
// decoding its grants with encoding/json was 7 % of a page's CPU (issue
// 15). It is a memo of a pure function, not a cache of records: the text is
// read from the database on every request as before, and a role whose
// grants change has another text, decoded afresh, so no access decision
// can be taken on an old role.
var grantsMemo = struct {
	sync.RWMutex
	m map[string]store.Grants
}{m: map[string]store.Grants{}}

// decodeGrants is json.Unmarshal of a job role's grants text, remembered.
// Callers get their own copy (Grants is a slice of values), so that one
// changing its role cannot change another's.
func decodeGrants(text string) (store.Grants, error) {
	grantsMemo.RLock()
	g, ok := grantsMemo.m[text]
	grantsMemo.RUnlock()
	if ok {
		return slices.Clone(g), nil
	}
	if err := json.Unmarshal([]byte(text), &g); err != nil {
		return nil, err
	}
	grantsMemo.Lock()
	if len(grantsMemo.m) >= maxGrantsMemo {
		clear(grantsMemo.m)
	}
	// The key is copied: text may share its bytes with the rest of its row.
	grantsMemo.m[strings.Clone(text)] = slices.Clone(g)
	grantsMemo.Unlock()
	return g, nil
}
