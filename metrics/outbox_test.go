package metrics

import (
	"context"
	"testing"
)

// TestOutboxGauges: the outbox's pending and dead deliveries by channel are
// gauges read from the database at scrape time; an unknown channel is other.
func TestOutboxGauges(t *testing.T) {
	m := New()
	err := m.AddState(func(context.Context) (State, error) {
		return State{Outbox: []OutboxCount{
			{Channel: "webhook", Status: "pending", Count: 3},
			{Channel: "email", Status: "dead", Count: 2},
			{Channel: "SECRET", Status: "dead", Count: 1},
			{Channel: "webhook", Status: "delivered", Count: 99},
		}}, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"channel": "webhook", "status": "pending"}, 3},
		{map[string]string{"channel": "email", "status": "dead"}, 2},
		{map[string]string{"channel": "other", "status": "dead"}, 1},
		{map[string]string{"channel": "webhook", "status": "delivered"}, 0},
	} {
		if got := value(t, m, "bankfeed_outbox_deliveries", c.labels); got != c.want {
			t.Errorf("bankfeed_outbox_deliveries%v = %v, want %v", c.labels, got, c.want)
		}
	}
}
