package store

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestGrantAuditEvent: the Granted event when nothing was replaced; the
// Replaced event's action and After, with the replaced consent's ID (the
// least of several) as a JSON string where the mark stood, otherwise the
// Granted event's fields; a Replaced After without the mark is refused.
func TestGrantAuditEvent(t *testing.T) {
	after := func(prev string) json.RawMessage {
		return json.RawMessage(`{"clientId":"cli_1","previousConsentId":` + prev + `,"scopes":["openid"]}`)
	}
	g := GrantAudit{
		Granted:  AuditEvent{Action: "consent.granted", ActorID: "usr_1", TargetID: "cns_new", RemoteAddr: "192.0.2.1", After: json.RawMessage(`{"clientId":"cli_1"}`)},
		Replaced: AuditEvent{Action: "consent.updated", After: after(string(ReplacedMarkJSON))},
	}
	if e, err := g.Event(nil); err != nil || e.Action != "consent.granted" || string(e.After) != `{"clientId":"cli_1"}` {
		t.Errorf("Event(none) = %+v, %v; want the Granted event", e, err)
	}
	e, err := g.Event([]string{"cns_b", `cns_"a"`})
	if err != nil || e.Action != "consent.updated" || string(e.After) != string(after(`"cns_\"a\""`)) ||
		e.ActorID != "usr_1" || e.TargetID != "cns_new" || e.RemoteAddr != "192.0.2.1" {
		t.Errorf("Event(two replaced) = %+v (after %s), %v", e, e.After, err)
	}
	if !json.Valid(e.After) {
		t.Errorf("Event's After is not JSON: %s", e.After)
	}
	g.Replaced.After = g.Granted.After
	if _, err := g.Event([]string{"cns_b"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Event without the mark: %v, want ErrInvalid", err)
	}
}
